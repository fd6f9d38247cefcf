/* Three threads writing their own arrays: one process, four tids. */
#include <pthread.h>
#include <stdio.h>
static long v[4][1024];
static void *f(void *a) { long *p = a; for (int i = 0; i < 100000; i++) p[i % 1024] += i; return NULL; }
int main(void) { pthread_t t[3]; for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, f, v[i]);
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL); printf("%ld\n", v[0][5] + v[1][7]); return 0; }
