/* requirement.c — see requirement.h. (not yet implemented) */
