/* main.c — pyti's entry point (placeholder until the CLI lands). */
#include <stdio.h>
int main(void) { puts("pyti"); return 0; }
