/* taskgraph.c — see taskgraph.h. (not yet implemented) */
