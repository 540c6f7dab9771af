/* recipe.c — see recipe.h. (not yet implemented) */
