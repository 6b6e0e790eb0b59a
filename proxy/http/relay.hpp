#pragma once
// Forwarding one client request to the first node that answers, and streaming that node's
// response back as it arrives (a 10 MB eth_getLogs answer or an endless event stream alike).
// Both the EL and the CL paths use it; they differ only in how they pick nodes and targets.

#include <cstdint>
#include <string>
#include <vector>

#include "http/event_stream.hpp"
#include "http/upstream_pool.hpp"
#include "net/http_server.hpp"

namespace vixy::http {

struct RelayTarget {
  UpstreamPool* pool = nullptr;
  std::size_t node_index = 0;  // index into the layer's node list, for metrics and logs
  std::string target;          // request target on this node
};

struct RelayAttempt {
  std::size_t node_index = 0;
  UpstreamFailure failure = UpstreamFailure::none;
  beast::error_code error;
};

struct RelayOutcome {
  enum class Kind {
    relayed,     // a node answered; its response went (or started going) to the client
    exhausted,   // every allowed node failed before answering; nothing was written to the client
    timeout,     // the deadline passed before a response header; nothing was written to the client
  } kind = Kind::exhausted;
  std::size_t node_index = 0;          // the node that answered (relayed)
  unsigned status = 0;                 // its HTTP status (relayed)
  bool completed = false;              // relayed to the end (false: one side broke off midway)
  bool client_too_slow = false;        // the client was closed: a write to it outlasted its write timeout
  Clock::duration answer_time{};       // from the answering try's start to its node's final header (relayed)
  std::vector<RelayAttempt> failures;  // attempts that failed, in order
};

// Tries `targets` in order, at most 1 + max_retries of them, moving on only when a node fails
// before any response byte. `header` is the request's method and fields without hop-by-hop ones;
// each node gets its own target, Host, credentials and the length of `body` with it.
// Response bodies are bounded by `deadline` except event streams, which flow until either side
// leaves, or, with `streams` (CL only), until their node stops being routable: then the client's
// response is ended cleanly so that it reconnects elsewhere. Every write to the client must end
// within client.write_timeout(); a client that does not read is closed, and its node's answer
// (event stream or not) let go. A node's interim (1xx) answers are not relayed.
asio::awaitable<RelayOutcome> relay(net::HttpConnection& client, const bhttp::request_header<>& header,
                                    const std::string& body, const std::vector<RelayTarget>& targets,
                                    std::uint32_t max_retries, Clock::time_point deadline,
                                    EventStreams* streams = nullptr);

}  // namespace vixy::http
