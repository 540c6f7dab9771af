/* wheel.c — see wheel.h. (not yet implemented) */
