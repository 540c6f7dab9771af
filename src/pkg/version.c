/* version.c — see version.h. (not yet implemented) */
