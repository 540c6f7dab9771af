/* marker.c — see marker.h. (not yet implemented) */
