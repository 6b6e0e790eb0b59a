#include "http/relay.hpp"

#include <array>
#include <memory>
#include <optional>
#include <span>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http/flat_header.hpp"
#include "http/retry_policy.hpp"
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
  Clock::time_point header_at;   // when the final header came (answered)
};

using ResponseParser = bhttp::response_parser<bhttp::buffer_body>;

// The node's response header as the client gets it: hop-by-hop fields dropped, framing redone for
// the body as it will be streamed.
bhttp::response<bhttp::buffer_body> client_header(const ResponseParser& parser, bool head_request, bool keep_alive) {
  const auto& upstream = parser.get();
  bhttp::response<bhttp::buffer_body> response;
  response.result(upstream.result_int());
  response.version(11);
  for (const auto& field : upstream.base()) {
    if (!is_hop_by_hop(field.name())) response.insert(field.name_string(), field.value());
  }
  response.keep_alive(keep_alive);
  if (parser.content_length()) {
    response.content_length(*parser.content_length());
  } else if (!parser.is_done()) {
    response.chunked(true);
  } else if (!head_request) {
    response.content_length(0);
  }
  return response;
}

// Writes of one response to the client. Every write must finish within the client's write
// timeout, so a client that stops reading lets go of its node's answer (an endless event stream
// included); an ordinary answer also never outlives the request's deadline.
class ClientWriter {
 public:
  // `response` is null for an answer written as bytes only (write_raw).
  ClientWriter(net::HttpConnection& client, bhttp::response<bhttp::buffer_body>* response, bool streaming,
               Clock::time_point deadline)
      : client_(client), streaming_(streaming), deadline_(deadline) {
    if (response) serializer_.emplace(*response);
  }
  ~ClientWriter() { client_.stream().expires_never(); }
  ClientWriter(const ClientWriter&) = delete;
  ClientWriter& operator=(const ClientWriter&) = delete;

  asio::awaitable<beast::error_code> write_header() {
    bound();
    auto [ec, n] = co_await bhttp::async_write_header(client_.stream(), *serializer_, use_tuple);
    (void)n;
    co_return ec;
  }
  // Bytes of the response as they are (a flat header, body bytes of a known length).
  template <class Buffers>
  asio::awaitable<beast::error_code> write_raw(const Buffers& buffers) {
    bound();
    auto [ec, n] = co_await asio::async_write(client_.stream(), buffers, use_tuple);
    (void)n;
    co_return ec;
  }
  // The body piece currently set in the response (need_buffer is how Beast says "done with it").
  asio::awaitable<beast::error_code> write() {
    bound();
    auto [ec, n] = co_await bhttp::async_write(client_.stream(), *serializer_, use_tuple);
    (void)n;
    co_return ec == bhttp::error::need_buffer ? beast::error_code{} : ec;
  }
  bool done() const { return !serializer_ || serializer_->is_done(); }
  // A write timed out because of the client, not because the request's deadline came first.
  bool too_slow(const beast::error_code& ec) const { return ec == beast::error::timeout && bounded_by_client_; }

 private:
  void bound() {
    auto by_client = Clock::now() + client_.write_timeout();
    bounded_by_client_ = streaming_ || by_client <= deadline_;
    client_.stream().expires_at(bounded_by_client_ ? by_client : deadline_);
  }

  net::HttpConnection& client_;
  std::optional<bhttp::response_serializer<bhttp::buffer_body>> serializer_;
  bool streaming_;
  Clock::time_point deadline_;
  bool bounded_by_client_ = true;
};

// The request as one node gets it: its header written for that node, and the client's body.
struct NodeRequest {
  std::string header;
  const std::string& body;
  bool head = false;
};

// Sends the request and reads the header of the node's final answer into `parser`.
struct HeaderResult {
  beast::error_code error;
  bool got_some = false;  // some response byte came (so the node may have run the request)
};
template <class Stream>
asio::awaitable<HeaderResult> exchange_header(Stream& upstream, UpstreamConnection& connection,
                                              const NodeRequest& request, std::optional<ResponseParser>& parser) {
  HeaderResult result;
  const std::array<asio::const_buffer, 2> message{asio::buffer(request.header), asio::buffer(request.body)};
  auto [wec, wn] = co_await asio::async_write(upstream, message, use_tuple);
  (void)wn;
  if (wec) {
    result.error = wec;
    co_return result;
  }
  const bool head = request.head;
  auto prepare = [head](ResponseParser& p) {
    p.body_limit(boost::none);  // streamed, never held whole
    if (head) p.skip(true);
  };
  result.error = co_await read_final_header(upstream, connection.buffer, parser, prepare, result.got_some);
  co_return result;
}

// The node's answer after its header, to the client: an answer of known length (almost every one)
// as bytes, its header as one string with the body's first piece, then the body as it comes;
// others (chunked, event streams) through Beast's serializer, which frames them. Then what ends the
// message. Each side's clean end decides reuse and keep-alive (the caller's).
struct CopyOutcome {
  bool upstream_ok = true;
  bool client_ok = true;
  beast::error_code error;       // the first failure, of either side
  bool client_too_slow = false;  // that failure was the client's write deadline
};

// `response` is null for an answer of known length: its header is `flat_head`.
template <class Stream, class Moved>
asio::awaitable<CopyOutcome> copy_body(Stream& upstream, UpstreamConnection& connection, ResponseParser& parser,
                                       bhttp::response<bhttp::buffer_body>* response, const std::string& flat_head,
                                       ClientWriter& writer, const Moved& moved) {
  CopyOutcome out;
  auto failed = [&](const beast::error_code& ec) {
    out.error = ec;
    out.client_too_slow = writer.too_slow(ec);
  };
  const bool flat = response == nullptr;
  bool flat_head_sent = false;

  if (!connection.body_chunk) connection.body_chunk = std::make_unique<char[]>(kChunk);
  const std::span<char> chunk(connection.body_chunk.get(), kChunk);
  while (!parser.is_done() && !moved()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    auto [bec, bn] = co_await bhttp::async_read_some(upstream, connection.buffer, parser, use_tuple);
    (void)bn;
    if (bec == bhttp::error::need_buffer) bec = {};
    if (bec) {
      if (moved()) break;
      out.error = bec;
      out.upstream_ok = false;
      break;
    }
    const std::size_t got = chunk.size() - parser.get().body().size;
    beast::error_code ec;
    if (flat) {
      if (got == 0 && !parser.is_done()) continue;
      const std::array<asio::const_buffer, 2> piece{
          flat_head_sent ? asio::const_buffer() : asio::buffer(flat_head), asio::buffer(chunk.data(), got)};
      flat_head_sent = true;
      ec = co_await writer.write_raw(piece);
    } else {
      response->body().data = chunk.data();
      response->body().size = got;
      response->body().more = !parser.is_done();
      if (response->body().size == 0 && response->body().more) continue;
      ec = co_await writer.write();
    }
    if (ec) {
      failed(ec);
      out.client_ok = false;
      break;
    }
  }
  // Only a chunked stream can be ended early without the client mistaking it for a complete body.
  if (moved() && !(response && response->chunked())) out.client_ok = false;
  if (flat) {
    // A body that was already complete with the header (none, or a HEAD answer's).
    if (out.upstream_ok && out.client_ok && !flat_head_sent) {
      if (auto ec = co_await writer.write_raw(asio::buffer(flat_head))) {
        failed(ec);
        out.client_ok = false;
      }
    }
  } else if (out.upstream_ok && out.client_ok && !writer.done()) {
    // The message ended with an empty final piece (chunked terminator, or an empty body).
    response->body().data = nullptr;
    response->body().size = 0;
    response->body().more = false;
    if (auto ec = co_await writer.write()) {
      failed(ec);
      out.client_ok = false;
    }
  }
  co_return out;
}

// One try on one node: the request, then, once the node's final header came, its whole answer
// streamed to the client.
template <class Stream>
asio::awaitable<NodeResult> relay_on(Stream& upstream, UpstreamConnection& connection,
                                     net::HttpConnection& client, const NodeRequest& request,
                                     Clock::time_point deadline, EventStreams* streams, std::size_t node_index) {
  NodeResult result;
  connection.tcp().expires_at(deadline);
  std::optional<ResponseParser> parser;
  auto header = co_await exchange_header(upstream, connection, request, parser);
  if (header.error) {
    result.error = header.error;
    result.failure = classify_failure(header.error, header.got_some);
    co_return result;
  }

  // Committed: from here the client sees this node's answer.
  result.answered = true;
  result.header_at = Clock::now();
  result.status = parser->get().result_int();
  bool streaming = is_event_stream(parser->get().base());
  if (streaming) connection.tcp().expires_never();
  // Cancelling the upstream read wakes copy_body's loop; the flag covers a client write in progress.
  std::optional<EventStreams::Watch> watch;
  if (streaming && streams) watch.emplace(*streams, node_index, [&connection] { connection.tcp().cancel(); });
  auto moved = [&watch] { return watch && watch->ended(); };

  bool keep_alive = client.may_keep_alive();
  // An answer of known length (almost every one) gets its header written straight from the
  // node's; others (chunked, event streams) go through Beast's serializer, which frames them.
  std::optional<std::uint64_t> length;
  if (auto declared = parser->content_length()) {
    length = *declared;
  } else if (parser->is_done() && !request.head) {
    length = 0;
  }
  std::optional<bhttp::response<bhttp::buffer_body>> response;
  std::string flat_head;
  if (!streaming && length) {
    flat_client_header(flat_head, parser->get().base(), keep_alive, *length);
  } else {
    response.emplace(client_header(*parser, request.head, keep_alive));
  }
  ClientWriter writer(client, response ? &*response : nullptr, streaming, deadline);
  if (streaming) {
    // An event stream's client waits for the header before any event comes. Otherwise the header
    // goes out with the first piece of the body: one write (one packet) for a typical small answer.
    if (auto ec = co_await writer.write_header()) {
      result.error = ec;
      result.client_too_slow = writer.too_slow(ec);
      client.responded(false);
      client.close();
      co_return result;
    }
  }

  auto copied =
      co_await copy_body(upstream, connection, *parser, response ? &*response : nullptr, flat_head, writer, moved);
  if (copied.error) {
    result.error = copied.error;
    result.client_too_slow = copied.client_too_slow;
  }
  const bool upstream_ok = copied.upstream_ok, client_ok = copied.client_ok;
  result.completed = upstream_ok && client_ok;
  result.failure = upstream_ok ? UpstreamFailure::none : UpstreamFailure::after_response;
  client.responded(result.completed && keep_alive);
  if (!result.completed) client.close();
  // Reuse the upstream connection only when its answer ended cleanly and it may stay open.
  result.reusable = result.completed && !moved() && answer_allows_reuse(*parser);
  co_return result;
}

}  // namespace

asio::awaitable<RelayOutcome> relay(net::HttpConnection& client, const bhttp::request_header<>& header,
                                    const std::string& body, const std::vector<RelayTarget>& targets,
                                    std::uint32_t max_retries, Clock::time_point deadline, EventStreams* streams) {
  RelayOutcome outcome;
  std::size_t allowed = nodes_to_try(targets.size(), max_retries);
  NodeRequest request{{}, body, header.method() == bhttp::verb::head};
  for (std::size_t i = 0; i < allowed; ++i) {
    const RelayTarget& target = targets[i];
    flat_node_request(request.header, header, target.target, target.pool->node_fields(), body.size());

    for (bool fresh = false;; fresh = true) {
      const auto attempt_started = Clock::now();
      // (Not a conditional expression: GCC 12 miscompiles co_await inside ?:.)
      UpstreamPool::Acquired acquired;
      if (!fresh) acquired.connection = target.pool->take_idle();
      if (!acquired.connection) acquired = co_await target.pool->connect(deadline);
      auto& connection = acquired.connection;
      NodeResult result;
      if (connection) {
        result = co_await connection->with_stream([&](auto& s) {
          return relay_on(s, *connection, client, request, deadline, streams, target.node_index);
        });
      } else {
        result.failure = acquired.failure;
        result.error = acquired.error;
      }
      if (result.answered) {
        outcome.kind = RelayOutcome::Kind::relayed;
        outcome.node_index = target.node_index;
        outcome.status = result.status;
        outcome.completed = result.completed;
        outcome.client_too_slow = result.client_too_slow;
        outcome.answer_time = result.header_at - attempt_started;
        if (result.reusable) target.pool->release(std::move(connection));
        co_return outcome;
      }
      FailedTry failed{result.failure, connection && connection->reused, is_disconnect(result.error),
                       Clock::now() >= deadline};
      switch (after_failure(failed)) {
        case NextStep::fresh_connection:
          continue;
        case NextStep::give_up:
          outcome.failures.push_back({target.node_index, result.failure, result.error});
          outcome.kind = RelayOutcome::Kind::exhausted;
          co_return outcome;
        case NextStep::time_out:
          outcome.failures.push_back({target.node_index, UpstreamFailure::timeout, result.error});
          outcome.kind = RelayOutcome::Kind::timeout;
          co_return outcome;
        case NextStep::next_node:
          outcome.failures.push_back({target.node_index, result.failure, result.error});
          break;
      }
      break;
    }
  }
  outcome.kind = RelayOutcome::Kind::exhausted;
  co_return outcome;
}

}  // namespace vixy::http
