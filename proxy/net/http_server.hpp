#pragma once
// HTTP/1.1 server plumbing shared by the proxy, the fake nodes and the harness: an acceptor, one
// coroutine per connection, keep-alive, body and header limits, and the two ways to stop (graceful
// for SIGTERM, abrupt for a fake node that is "killed"). A server and its connections live on one
// executor that is run by a single thread; nothing here locks.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/connection_gate.hpp"

namespace vixy::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct ServerLimits {
  std::uint64_t max_body_size = 10 * 1024 * 1024;
  std::uint32_t max_header_size = 16 * 1024;
  std::chrono::milliseconds idle_timeout{60'000};  // a kept-alive connection with no request
  std::chrono::milliseconds write_timeout{30'000};  // a client write not done this long ends the connection
  // Connection caps; the defaults mean none (the fake nodes and the harness run without).
  ConnectionCaps caps;
  // Shared with other servers' gates, so that the caps hold for all of them together; null: its own.
  std::shared_ptr<ConnectionCounts> shared_counts;
  // How long a connection refused into the overflow lane may take to send its request header.
  std::chrono::milliseconds overflow_timeout{2'000};
  // GET and HEAD of this path reach the handler even from the overflow lane, so that liveness
  // probes are answered while the caps are reached ("": none).
  std::string always_served_path;
};

// What the server tells its owner about connections (metrics), on the server's executor.
struct ConnectionEvents {
  std::function<void(std::size_t served)> served_changed;  // connections counted against the cap
  std::function<void(Refusal)> refused;                     // once per refused connection
  std::function<void()> evicted;                            // an idle connection closed to make room
};

// One accepted client connection, as handlers see it.
class HttpConnection {
 public:
  explicit HttpConnection(tcp::socket socket) : stream_(std::move(socket)) {}

  beast::tcp_stream& stream() { return stream_; }
  beast::flat_buffer& buffer() { return buffer_; }

  // Writes a whole response. The connection stays open for the next request when the request
  // asked for keep-alive and the server is not stopping. Returns the write error, if any.
  asio::awaitable<beast::error_code> respond(Response response);

  // The handler owns the socket from now on (a WebSocket or a stream it writes itself): when the
  // handler returns, the server closes the connection instead of reading another request.
  void take_over() { taken_ = true; }
  // For handlers that write their response to stream() themselves (relayed, streamed): whether
  // that response may keep the connection open, and the call that says it has been written.
  bool may_keep_alive() const { return request_keep_alive_ && !stopping_; }
  void responded(bool keep_alive) {
    keep_alive_ = keep_alive && may_keep_alive();
    busy_ = false;
  }
  // The server wants the connection to end after the current exchange (shutdown).
  bool stopping() const { return stopping_; }
  // How long one write to this client may take before the client counts as not reading.
  std::chrono::milliseconds write_timeout() const { return write_timeout_; }
  // The client's address as the socket saw it when it was accepted.
  const boost::asio::ip::address& peer() const { return peer_; }
  void close();  // abrupt: cancels whatever the connection is doing
  // Keeps `what` alive until the current request's handler has returned: what the handler was built
  // from, when its owner may replace it meanwhile (a reloaded configuration's handlers).
  void hold_for_request(std::shared_ptr<const void> what) { held_ = std::move(what); }

 private:
  friend class HttpServer;
  // Ends a connection whose request may still be arriving after vixy refused it: stops sending,
  // reads and drops what is left (briefly, boundedly) and closes, so that the client reads the
  // answer instead of a reset caused by unread bytes.
  asio::awaitable<void> close_after_refusal();

  ConnectionGate::Id id_ = 0;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool request_keep_alive_ = true;
  bool request_is_head_ = false;
  bool keep_alive_ = true;
  bool busy_ = false;
  bool taken_ = false;
  bool stopping_ = false;
  bool evicted_ = false;  // closed by the server to make room; its request, if any, is not served
  bool refused_ = false;  // answered without reading its body: closed with close_after_refusal()
  std::chrono::milliseconds write_timeout_{30'000};
  boost::asio::ip::address peer_;
  std::shared_ptr<const void> held_;
};

// Handles one request. It answers through connection.respond() (once) or takes the connection over.
// A handler that returns without doing either gets a 500.
using Handler = std::function<asio::awaitable<void>(HttpConnection&, Request&)>;

class HttpServer : public std::enable_shared_from_this<HttpServer> {
 public:
  HttpServer(asio::any_io_executor executor, Handler handler, ServerLimits limits = {});
  ~HttpServer();

  // Binds and listens; an error (address in use, bad address) is returned, not thrown.
  // `shared_port`: SO_REUSEPORT, so that one listener per thread can bind the same port and the
  // kernel spreads the connections over them.
  beast::error_code listen(const tcp::endpoint& endpoint, bool shared_port = false);
  tcp::endpoint local_endpoint() const { return local_endpoint_; }
  bool listening() const;

  void start();               // begins accepting (after listen)
  void stop_accepting();      // closes the listening socket; open connections go on
  void close_connections();   // closes every open connection at once
  // Stops accepting, closes idle connections, and lets busy ones finish their current response.
  void shutdown_gracefully();
  // Every open connection, the overflow lane's included.
  std::size_t connection_count() const { return connections_.size(); }
  // Call before start().
  void set_events(ConnectionEvents events) { events_ = std::move(events); }

 private:
  struct AcceptTrouble;
  struct Unregister;
  static asio::awaitable<void> accept_loop(std::shared_ptr<HttpServer> self);
  void admit(tcp::socket socket);
  bool evict_idle_connection();
  void close_evicted(ConnectionGate::Id id);
  void note_refusal(Refusal refusal);
  void log_capped();
  void served_changed();
  static asio::awaitable<void> run_connection(std::shared_ptr<HttpServer> self,
                                              std::shared_ptr<HttpConnection> connection);
  static asio::awaitable<void> run_overflow(std::shared_ptr<HttpServer> self,
                                            std::shared_ptr<HttpConnection> connection, Refusal refusal);
  // What the header alone decides (framing, expectations): false when the connection was answered
  // and must end.
  asio::awaitable<bool> accept_header(HttpConnection& connection, http::request_parser<http::string_body>& parser);
  asio::awaitable<void> answer_bad_request(HttpConnection& connection, http::status status,
                                           std::string message);

  asio::any_io_executor executor_;
  Handler handler_;
  ServerLimits limits_;
  tcp::acceptor acceptor_;
  tcp::endpoint local_endpoint_;
  bool stopping_ = false;
  ConnectionGate gate_;
  ConnectionGate::Id next_id_ = 0;
  std::unordered_map<ConnectionGate::Id, HttpConnection*> connections_;
  ConnectionEvents events_;
  std::unique_ptr<AcceptTrouble> trouble_;  // throttled logging of accept failures and refusals
};

// A response with a body and content type, keep-alive and length set from the request.
Response make_response(const Request& request, http::status status, std::string body,
                       std::string_view content_type = "application/json");
// The JSON-RPC error document `{"jsonrpc":"2.0","id":null,"error":{code,message}}` as a response.
Response make_jsonrpc_error_response(const Request& request, http::status status, int code,
                                     std::string_view message);

}  // namespace vixy::net
