/* A program with a marked region of interest: 200,000 loop iterations before it, 1,000 in it. */
#include <agilesim/roi.h>
#include <stdio.h>
static volatile long sink;
static void loop(long n) { for (long i = 0; i < n; i++) sink += i; }
int main(void)
{
    loop(200000);
    AGILESIM_ROI_BEGIN();
    loop(1000);
    AGILESIM_ROI_END();
    loop(200000);
    printf("%ld\n", (long)sink);
    return 0;
}
