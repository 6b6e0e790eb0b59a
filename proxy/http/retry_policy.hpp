#pragma once
// What to do after an exchange with a node failed before the node answered (the relay's and the
// health checks' alike), and how many nodes a request may try: pure functions, so that every
// case can be tried alone (as health is).

#include <cstddef>
#include <cstdint>

#include "http/upstream_pool.hpp"

namespace vixy::http {

// How many of `candidates` healthy nodes one request may try: the first plus `max_retries` more.
std::size_t nodes_to_try(std::size_t candidates, std::uint32_t max_retries);

// What is known about a try that ended without an answer.
struct FailedTry {
  UpstreamFailure failure = UpstreamFailure::none;
  bool pooled_connection = false;  // the try used a kept-alive connection from the pool
  bool peer_closed = false;        // the error says the node had closed the connection
  bool deadline_passed = false;    // the request's deadline has passed
};

enum class NextStep {
  // The same node again, on a new connection: the pooled one had been closed by the node while it
  // sat idle, which says nothing about the node.
  fresh_connection,
  next_node,  // this node failed; the next one may run the request
  give_up,    // the node got the request and answered it wrongly: another node could run it twice
  time_out,   // no time is left for another try
};

NextStep after_failure(const FailedTry& attempt);

const char* to_string(NextStep step);

}  // namespace vixy::http
