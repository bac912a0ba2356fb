#include "lazy_deadline.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>

namespace coffer::net {

struct LazyDeadline::State {
  explicit State(const boost::asio::any_io_executor &executor) : timer(executor) {}
  boost::asio::steady_timer timer;
  std::function<void()> expire;
  Clock::time_point at = Clock::time_point::max();
  Clock::time_point armed = Clock::time_point::max();  // when the timer fires
  std::uint64_t generation = 0;                        // of the wait that counts
  bool expired = false;
};

void LazyDeadline::arm(const std::shared_ptr<State> &state, Clock::time_point at) {
  state->armed = at;
  std::uint64_t generation = ++state->generation;
  state->timer.expires_at(at);
  state->timer.async_wait([state, generation](const boost::system::error_code &error) {
    // A wait replaced by a newer one (or one already done when it was
    // replaced) or cancelled at the end: not ours to act on.
    if (error || generation != state->generation || !state->expire) return;
    state->armed = Clock::time_point::max();
    if (state->at == Clock::time_point::max()) return;
    if (Clock::now() < state->at) {
      arm(state, state->at);
      return;
    }
    state->expired = true;
    state->expire();
  });
}

LazyDeadline::LazyDeadline(const boost::asio::any_io_executor &executor,
                           std::function<void()> expire)
    : state_(std::make_shared<State>(executor)) {
  state_->expire = std::move(expire);
}

LazyDeadline::~LazyDeadline() {
  state_->expire = nullptr;
  state_->timer.cancel();
}

void LazyDeadline::set(Clock::time_point at) {
  state_->at = at;
  state_->expired = false;
  if (at < state_->armed) arm(state_, at);
}

bool LazyDeadline::expired() const noexcept {
  return state_->expired;
}

}  // namespace coffer::net
