/* specifier.c — see specifier.h. (not yet implemented) */
