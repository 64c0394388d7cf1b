/* Counts the `cpuid` instructions a program runs, and where.
 *
 * On a virtual machine every `cpuid` traps to the hypervisor (6.4 us each on
 * the machines hoist is benchmarked on), so a start-up that runs a few dozen
 * of them pays for it. The kernel's CPUID faulting (`arch_prctl
 * ARCH_SET_CPUID`, Linux 4.12+, where the CPU has it: `cpuid_fault` in
 * /proc/cpuinfo) turns each into a SIGSEGV; this tracer switches it on in the
 * traced program right after exec, answers each trapped `cpuid` itself and
 * counts it.
 *
 *   gcc -O2 -o cpuid_count bench/tools/cpuid_count.c
 *   ./cpuid_count /path/to/hoist --dry upload-image   # the program's output goes to /dev/null
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARCH_SET_CPUID 0x1012
#define SYS_ARCH_PRCTL 158

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PROGRAM [ARGS...]\n", argv[0]);
    return 2;
  }
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    execv(argv[1], argv + 1);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0); /* stopped right after exec */
  /* Make the program call arch_prctl(ARCH_SET_CPUID, 0) at its entry point:
     a `syscall` instruction written over it, one step, then put back. */
  struct user_regs_struct regs, saved;
  ptrace(PTRACE_GETREGS, pid, 0, &saved);
  long text = ptrace(PTRACE_PEEKTEXT, pid, saved.rip, 0);
  ptrace(PTRACE_POKETEXT, pid, saved.rip, (text & ~0xffffL) | 0x050f);
  regs = saved;
  regs.rax = SYS_ARCH_PRCTL;
  regs.rdi = ARCH_SET_CPUID;
  regs.rsi = 0;
  ptrace(PTRACE_SETREGS, pid, 0, &regs);
  ptrace(PTRACE_SINGLESTEP, pid, 0, 0);
  waitpid(pid, &status, 0);
  ptrace(PTRACE_GETREGS, pid, 0, &regs);
  if ((long)regs.rax != 0) {
    fprintf(stderr, "cpuid_count: this machine has no CPUID faulting\n");
    kill(pid, SIGKILL);
    return 1;
  }
  ptrace(PTRACE_POKETEXT, pid, saved.rip, text);
  ptrace(PTRACE_SETREGS, pid, 0, &saved);
  /* Threads inherit the faulting: trace them too, or their first cpuid
     would kill the program. */
  ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACECLONE);
  int count = 0, signal_to_pass = 0;
  pid_t stopped = pid;
  for (;;) {
    ptrace(PTRACE_CONT, stopped, 0, signal_to_pass);
    signal_to_pass = 0;
    stopped = waitpid(-1, &status, __WALL);
    if (stopped < 0)
      break;
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (stopped == pid)
        break;
      continue; /* a thread ended; wait for the next stop */
    }
    int sig = WSTOPSIG(status);
    if (sig == SIGTRAP && (status >> 16) == PTRACE_EVENT_CLONE)
      continue; /* the new thread starts stopped: its own SIGSTOP comes next */
    if (sig == SIGSTOP && stopped != pid)
      continue; /* a new thread's first stop: let it run */
    ptrace(PTRACE_GETREGS, stopped, 0, &regs);
    long at = ptrace(PTRACE_PEEKTEXT, stopped, regs.rip, 0);
    if (sig == SIGSEGV && (at & 0xffff) == 0xa20f) { /* 0f a2: cpuid */
      unsigned a, b, c, d;
      __cpuid_count(regs.rax, regs.rcx, a, b, c, d);
      fprintf(stderr, "cpuid leaf %#llx/%#llx at %#llx\n", regs.rax & 0xffffffff,
              regs.rcx & 0xffffffff, regs.rip);
      regs.rax = a;
      regs.rbx = b;
      regs.rcx = c;
      regs.rdx = d;
      regs.rip += 2;
      ptrace(PTRACE_SETREGS, stopped, 0, &regs);
      count++;
    } else {
      signal_to_pass = sig;
    }
  }
  fprintf(stderr, "cpuid_count: %d cpuid instructions\n", count);
  return 0;
}
