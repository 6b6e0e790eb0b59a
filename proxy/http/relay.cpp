#include "http/relay.hpp"

#include <array>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http/upstream_response.hpp"
#include "net/awaitable.hpp"

namespace vixy::http {
namespace {
constexpr std::size_t kChunk = 16 * 1024;

bool is_event_stream(const bhttp::fields& fields) {
  auto it = fields.find(bhttp::field::content_type);
  return it != fields.end() && it->value().starts_with("text/event-stream");
}

// What happened to one node: either it answered (and the relay is committed to it) or it failed
// before answering.
struct NodeResult {
  bool answered = false;
  UpstreamFailure failure = UpstreamFailure::none;
  beast::error_code error;
  unsigned status = 0;
  bool completed = false;
  bool client_too_slow = false;  // a write to the client did not finish within its write timeout
  bool reusable = false;         // the upstream connection may carry the next request
};

template <class Stream>
asio::awaitable<NodeResult> relay_on(Stream& upstream, UpstreamConnection& connection,
                                     net::HttpConnection& client,
                                     const bhttp::request<bhttp::string_body>& request,
                                     Clock::time_point deadline, EventStreams* streams, std::size_t node_index) {
  NodeResult result;
  connection.tcp().expires_at(deadline);
  auto [wec, wn] = co_await bhttp::async_write(upstream, request, use_tuple);
  (void)wn;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  bool got_some = false;
  beast::error_code hec = wec;
  if (!hec) {
    const bool head = request.method() == bhttp::verb::head;
    auto prepare = [head](bhttp::response_parser<bhttp::buffer_body>& p) {
      p.body_limit(boost::none);  // streamed, never held whole
      if (head) p.skip(true);
    };
    hec = co_await read_final_header(upstream, connection.buffer, parser, prepare, got_some);
  }
  if (hec) {
    result.error = hec;
    result.failure = classify_failure(hec, got_some);
    co_return result;
  }

  // Committed: from here the client sees this node's answer.
  result.answered = true;
  auto& upstream_header = parser->get();
  result.status = upstream_header.result_int();
  bool streaming = is_event_stream(upstream_header.base());
  if (streaming) connection.tcp().expires_never();
  // Cancelling the upstream read wakes the loop below; the flag covers a client write in progress.
  std::optional<EventStreams::Watch> watch;
  if (streaming && streams) watch.emplace(*streams, node_index, [&connection] { connection.tcp().cancel(); });
  auto moved = [&watch] { return watch && watch->ended(); };

  bhttp::response<bhttp::buffer_body> response;
  response.result(upstream_header.result_int());
  response.version(11);
  for (const auto& field : upstream_header.base()) {
    if (!is_hop_by_hop(field.name())) response.insert(field.name_string(), field.value());
  }
  bool keep_alive = client.may_keep_alive();
  response.keep_alive(keep_alive);
  if (parser->content_length()) {
    response.content_length(*parser->content_length());
  } else if (!parser->is_done()) {
    response.chunked(true);
  } else if (request.method() != bhttp::verb::head) {
    response.content_length(0);
  }

  bhttp::response_serializer<bhttp::buffer_body> serializer{response};
  auto& client_stream = client.stream();
  // Every write to the client must finish within its write timeout, so a client that stops
  // reading lets go of its node's answer (an endless event stream included); an ordinary answer
  // also never outlives the request's deadline.
  bool bounded_by_client = true;
  auto bound_client_write = [&] {
    auto by_client = Clock::now() + client.write_timeout();
    bounded_by_client = streaming || by_client <= deadline;
    client_stream.expires_at(bounded_by_client ? by_client : deadline);
  };
  auto client_failed = [&](const beast::error_code& ec) {
    result.error = ec;
    result.client_too_slow = ec == beast::error::timeout && bounded_by_client;
  };
  if (streaming) {
    // An event stream's client waits for the header before any event comes.
    bound_client_write();
    auto [cec, cn] = co_await bhttp::async_write_header(client_stream, serializer, use_tuple);
    (void)cn;
    if (cec) {
      client_failed(cec);
      client_stream.expires_never();
      client.responded(false);
      client.close();
      co_return result;
    }
  }
  // Otherwise the header goes out with the first piece of the body: one write (one packet) for a
  // typical small answer instead of two.

  std::array<char, kChunk> chunk;
  bool upstream_ok = true;
  bool client_ok = true;
  while (!parser->is_done() && !moved()) {
    parser->get().body().data = chunk.data();
    parser->get().body().size = chunk.size();
    auto [bec, bn] = co_await bhttp::async_read_some(upstream, connection.buffer, *parser, use_tuple);
    (void)bn;
    if (bec == bhttp::error::need_buffer) bec = {};
    if (bec) {
      if (moved()) break;
      result.error = bec;
      upstream_ok = false;
      break;
    }
    response.body().data = chunk.data();
    response.body().size = chunk.size() - parser->get().body().size;
    response.body().more = !parser->is_done();
    if (response.body().size == 0 && response.body().more) continue;
    bound_client_write();
    auto [wec2, wn2] = co_await bhttp::async_write(client_stream, serializer, use_tuple);
    (void)wn2;
    if (wec2 == bhttp::error::need_buffer) wec2 = {};
    if (wec2) {
      client_failed(wec2);
      client_ok = false;
      break;
    }
  }
  // Only a chunked stream can be ended early without the client mistaking it for a complete body.
  if (moved() && !response.chunked()) client_ok = false;
  if (upstream_ok && client_ok && !serializer.is_done()) {
    // The message ended with an empty final piece (chunked terminator, or an empty body).
    response.body().data = nullptr;
    response.body().size = 0;
    response.body().more = false;
    bound_client_write();
    auto [fec, fn] = co_await bhttp::async_write(client_stream, serializer, use_tuple);
    (void)fn;
    if (fec && fec != bhttp::error::need_buffer) {
      client_failed(fec);
      client_ok = false;
    }
  }
  client_stream.expires_never();
  result.completed = upstream_ok && client_ok;
  result.failure = upstream_ok ? UpstreamFailure::none : UpstreamFailure::after_response;
  client.responded(result.completed && keep_alive);
  if (!result.completed) client.close();
  // Reuse the upstream connection only when its answer ended cleanly and it may stay open.
  result.reusable = result.completed && !moved() && answer_allows_reuse(*parser);
  co_return result;
}

}  // namespace

bool is_hop_by_hop(bhttp::field field) {
  switch (field) {
    case bhttp::field::connection:
    case bhttp::field::expect:  // vixy has read the client's body itself: nothing for a node to await
    case bhttp::field::keep_alive:
    case bhttp::field::proxy_authenticate:
    case bhttp::field::proxy_authorization:
    case bhttp::field::proxy_connection:
    case bhttp::field::te:
    case bhttp::field::trailer:
    case bhttp::field::transfer_encoding:
    case bhttp::field::upgrade:
    case bhttp::field::host:
    case bhttp::field::content_length:  // recomputed for the body actually sent
      return true;
    default:
      return false;
  }
}

asio::awaitable<RelayOutcome> relay(net::HttpConnection& client, bhttp::request<bhttp::string_body>& request,
                                    const std::vector<RelayTarget>& targets, std::uint32_t max_retries,
                                    Clock::time_point deadline, EventStreams* streams) {
  RelayOutcome outcome;
  std::size_t allowed = std::min<std::size_t>(targets.size(), std::size_t{max_retries} + 1);
  request.keep_alive(true);
  for (std::size_t i = 0; i < allowed; ++i) {
    const RelayTarget& target = targets[i];
    request.target(target.target);
    target.pool->prepare(request);
    request.prepare_payload();

    for (int attempt = 0; attempt < 2; ++attempt) {
      UpstreamFailure failure = UpstreamFailure::none;
      beast::error_code error;
      // (Not a conditional expression: GCC 12 miscompiles co_await inside ?:.)
      std::unique_ptr<UpstreamConnection> connection;
      if (attempt == 0) {
        connection = co_await target.pool->acquire(deadline, failure, error);
      } else {
        connection = co_await target.pool->connect(deadline, failure, error);
      }
      NodeResult result;
      if (connection) {
        result = co_await connection->with_stream([&](auto& s) {
          return relay_on(s, *connection, client, request, deadline, streams, target.node_index);
        });
      } else {
        result.failure = failure;
        result.error = error;
      }
      if (result.answered) {
        outcome.kind = RelayOutcome::Kind::relayed;
        outcome.node_index = target.node_index;
        outcome.status = result.status;
        outcome.completed = result.completed;
        outcome.client_too_slow = result.client_too_slow;
        if (result.reusable) target.pool->release(std::move(connection));
        co_return outcome;
      }
      if (result.failure == UpstreamFailure::bad_response) {
        // The node got the request and answered it wrongly: another node could run it twice.
        outcome.failures.push_back({target.node_index, result.failure, result.error});
        outcome.kind = RelayOutcome::Kind::exhausted;
        co_return outcome;
      }
      if (result.failure == UpstreamFailure::timeout || Clock::now() >= deadline) {
        outcome.failures.push_back({target.node_index, UpstreamFailure::timeout, result.error});
        outcome.kind = RelayOutcome::Kind::timeout;
        co_return outcome;
      }
      // A pooled connection that the node had closed while idle is not the node's failure.
      bool stale = connection && connection->reused && result.failure == UpstreamFailure::before_response &&
                   is_disconnect(result.error);
      if (stale) continue;
      outcome.failures.push_back({target.node_index, result.failure, result.error});
      break;
    }
  }
  outcome.kind = RelayOutcome::Kind::exhausted;
  co_return outcome;
}

}  // namespace vixy::http
