// Process-wide protection for a host that holds secrets: no core dumps, no
// debugger attachment.
//
// coffer keeps its own secret material out of core dumps (see secret.hpp),
// but a dump of the whole process also holds whatever the host copied out of
// a Secret, and a process of the same user can read live memory through
// ptrace or /proc/PID/mem. harden_process() closes both for hosts that can
// live without core dumps; docs/security.md says when to call it.
#ifndef COFFER_PROCESS_HPP
#define COFFER_PROCESS_HPP

namespace coffer {

// Turns core dumps and ptrace attachment off for the calling process (every
// thread): RLIMIT_CORE becomes 0, soft and hard (an unprivileged process
// cannot raise it again), and the process is marked non-dumpable
// (prctl(PR_SET_DUMPABLE, 0)), which keeps processes of the same user that
// lack CAP_SYS_PTRACE from attaching to it and from reading /proc/PID/mem,
// /proc/PID/environ and the like.
//
// Call it early in main(), before the first secret is read, and again after
// changing user or group ids (the kernel resets the non-dumpable mark then).
// Children made with fork() inherit both. execve() keeps the RLIMIT_CORE of
// 0 (resource limits survive it, so a program the host executes writes no
// core dump either) and resets the non-dumpable mark. Idempotent and
// thread-safe. Throws coffer::Error (Code::internal) naming the step the
// system refused.
void harden_process();

}  // namespace coffer

#endif  // COFFER_PROCESS_HPP
