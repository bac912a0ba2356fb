// How many CPUs the agent may use: what its affinity mask allows, capped by
// the CPU quota of its cgroup (a container's CPU limit), so that the default
// number of I/O threads fits a pod's limit and not the node's core count.
#ifndef COFFER_AGENT_CPU_BUDGET_HPP
#define COFFER_AGENT_CPU_BUDGET_HPP

#include <optional>
#include <string_view>

namespace coffer::agent {

// The CPUs a cgroup v2 "cpu.max" grants ("QUOTA PERIOD", rounded up, at
// least 1); nullopt for "max PERIOD" (no quota) or text that is not that.
std::optional<unsigned> cpus_of_quota(std::string_view cpu_max);

// The CPUs this process may use: its affinity mask's count, capped by the
// tightest cpu.max of its cgroup and the cgroup's ancestors; at least 1.
unsigned cpu_budget();

// The default number of I/O threads: one CPU left for the clients the agent
// serves (on a 2-CPU node, one I/O thread serves more than 50,000 cached
// gets a second), at least 1.
unsigned default_io_threads();

}  // namespace coffer::agent

#endif  // COFFER_AGENT_CPU_BUDGET_HPP
