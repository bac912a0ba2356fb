#include "storage/storage.hpp"

namespace coffer::database {

namespace {
thread_local std::optional<RetryBudget::Clock::time_point> current_deadline;
}  // namespace

RetryBudget::RetryBudget(std::chrono::milliseconds budget) : previous_(current_deadline) {
  auto deadline = Clock::now() + budget;
  if (!current_deadline || deadline < *current_deadline) current_deadline = deadline;
}

RetryBudget::~RetryBudget() {
  current_deadline = previous_;
}

std::optional<RetryBudget::Clock::time_point> RetryBudget::deadline() {
  return current_deadline;
}

}  // namespace coffer::database
