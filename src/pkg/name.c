/* name.c — see name.h. (not yet implemented) */
