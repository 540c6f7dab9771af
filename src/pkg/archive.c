/* archive.c — see archive.h. (not yet implemented) */
