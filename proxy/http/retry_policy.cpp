#include "http/retry_policy.hpp"

#include <algorithm>

namespace vixy::http {

std::size_t nodes_to_try(std::size_t candidates, std::uint32_t max_retries) {
  return std::min<std::size_t>(candidates, std::size_t{max_retries} + 1);
}

NextStep after_failure(const FailedTry& attempt) {
  if (attempt.failure == UpstreamFailure::bad_response) return NextStep::give_up;
  if (attempt.failure == UpstreamFailure::timeout || attempt.deadline_passed) return NextStep::time_out;
  // Only a connection that never gave a byte back can have been a stale one; a fresh connection
  // that fails the same way is the node's failure.
  if (attempt.pooled_connection && attempt.failure == UpstreamFailure::before_response && attempt.peer_closed) {
    return NextStep::fresh_connection;
  }
  return NextStep::next_node;
}

const char* to_string(NextStep step) {
  switch (step) {
    case NextStep::fresh_connection: return "fresh_connection";
    case NextStep::next_node: return "next_node";
    case NextStep::give_up: return "give_up";
    case NextStep::time_out: return "time_out";
  }
  return "?";
}

}  // namespace vixy::http
