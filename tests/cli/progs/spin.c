/* Runs until killed (a long recording to interrupt). */
static volatile unsigned long sink;
int main(void) { for (;;) sink++; }
