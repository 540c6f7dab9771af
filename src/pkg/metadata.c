/* metadata.c — see metadata.h. (not yet implemented) */
