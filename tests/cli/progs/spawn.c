/* posix_spawn of /bin/true twice (glibc: clone(CLONE_VM|CLONE_VFORK)): two new processes. */
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
extern char **environ;
int main(void) { pid_t p; char *av[] = { "/bin/true", NULL }; int st;
  for (int i = 0; i < 2; i++) { if (posix_spawn(&p, "/bin/true", NULL, NULL, av, environ)) return 1; waitpid(p, &st, 0); }
  return 0; }
