#pragma once
// What EL and CL fake nodes share: the listeners (RPC, admin, optional TLS front), the head as
// clients see it (clock, pause, lag), the controls the admin API flips, and the block clock that
// tells the node about every new head exactly once, in order.
//
// A node lives on one single-threaded executor. Coroutines hold a shared_ptr to it, so it outlives
// everything it started; stop() makes them all unwind.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "fakenodes/chain.hpp"
#include "fakenodes/options.hpp"
#include "net/http_server.hpp"

namespace vixy::fakenodes {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using net::HttpConnection;
using net::HttpServer;
using net::Request;
using net::Response;

class TlsFront;

// A reorg replaces at most this many blocks below the head (geth's own limit on reorgs is far
// higher, but nothing the harness does needs more, and each replaced block is re-sent).
inline constexpr std::uint64_t kMaxReorgDepth = 1024;

// How the admin told the node to answer one method (EL: JSON-RPC method; CL: request path).
struct MethodOverride {
  std::chrono::milliseconds delay{0};
  std::optional<int> error_code;  // EL: answer with this JSON-RPC error
  std::string error_message;
  std::optional<unsigned> http_status;  // CL: answer with this HTTP status
  json to_json() const;
};

class FakeNode : public std::enable_shared_from_this<FakeNode> {
 public:
  FakeNode(asio::any_io_executor executor, NodeOptions options);
  virtual ~FakeNode();
  FakeNode(const FakeNode&) = delete;
  FakeNode& operator=(const FakeNode&) = delete;

  // Binds the RPC, admin and TLS listeners, logs each one's address and starts serving and the
  // block clock. A bind error is returned, not thrown; a bad certificate throws (start-up).
  beast::error_code start();
  // Closes every listener and connection and stops the clock, so that every coroutine unwinds.
  void stop();

  const NodeOptions& options() const { return options_; }
  const Chain& chain() const { return chain_; }
  asio::any_io_executor executor() const { return executor_; }
  tcp::endpoint rpc_endpoint() const;
  tcp::endpoint admin_endpoint() const;
  std::optional<tcp::endpoint> tls_endpoint() const;
  std::string version_string() const;  // "vixy-fakenode/<version>/<name>"

  // The head clients see: min(clock height, height when paused) - lag, never below zero.
  std::uint64_t head() const;
  std::uint64_t chain_height() const;
  // The highest head announced so far (through on_new_head).
  std::uint64_t announced_head() const { return announced_; }

  // Controls, set through the admin API.
  void set_lag(std::uint64_t blocks);
  void pause();
  void resume();
  void set_syncing(bool syncing);
  void set_healthy(bool healthy);
  void set_silent(bool silent);
  // A 1xx status (100 Continue, 103 Early Hints...) sent before every HTTP answer of the RPC
  // listener (WebSocket upgrades excepted); nullopt: none. Legal HTTP that a proxy reading one
  // response per request mistakes for the answer, leaving the real one for the next request.
  void set_interim(std::optional<unsigned> status) { interim_ = status; }
  std::optional<unsigned> interim() const { return interim_; }
  void set_override(const std::string& method, MethodOverride override);
  void clear_overrides(const std::optional<std::string>& method);
  const MethodOverride* find_override(std::string_view method) const;
  std::uint64_t lag() const { return lag_; }
  bool paused() const { return paused_at_.has_value(); }
  bool syncing() const { return syncing_; }
  bool healthy() const { return healthy_; }
  bool silent() const { return silent_; }
  bool stopped() const { return stopped_; }

  // Replaces the chain from from_height on with the fork fork_seed: blocks up to the head get new
  // hashes and every later block continues on the fork. Subscribers hear of it as from a node
  // (on_reorg). An error text (naming what is wrong) when from_height is 0, above the head or more
  // than kMaxReorgDepth blocks below it; empty on success.
  std::string reorg(std::uint64_t from_height, std::uint64_t fork_seed);

  void close_connections();     // RPC and TLS connections; listeners stay
  void kill();                  // stop listening and close every RPC connection
  beast::error_code restart();  // listen again on the same ports
  bool listening() const;
  virtual void drop_subscriptions() = 0;
  virtual std::size_t subscription_count() const = 0;
  virtual std::size_t ws_connection_count() const { return 0; }  // open WebSocket connections
  json state() const;

  // Completes at the next control change (silence, closes, kill, stop...): long-lived coroutines
  // that must react wait here and re-check what they care about.
  asio::awaitable<void> wait_for_change();

 protected:
  // Answers one request of the RPC listener.
  virtual asio::awaitable<void> handle(HttpConnection& connection, Request& request) = 0;
  // Called once for every new head height, in ascending order, from the block clock.
  virtual void on_new_head(std::uint64_t height) = 0;
  // Called after a reorg: the blocks from..removed_to of chain version old_tip (the ones subscribers
  // were told of) were replaced, and from..added_to of the current chain are now owed to them (the
  // block clock announces the heights above). Either range may be empty (to < from).
  virtual void on_reorg(std::size_t old_tip, std::uint64_t from, std::uint64_t removed_to, std::uint64_t added_to) {
    (void)old_tip, (void)from, (void)removed_to, (void)added_to;
  }
  virtual void on_stop() {}

  // Silent mode for an HTTP request: keep reading what the client sends, never answer.
  static asio::awaitable<void> drain_silently(HttpConnection& connection);
  // Waits out an admin-set delay.
  asio::awaitable<void> sleep(std::chrono::milliseconds delay);

  // Requests received and not yet answered, shown in /state so a test can see that a request has
  // reached the node before it acts (a SIGTERM to the proxy with the request in flight, say).
  std::size_t in_flight_ = 0;
  // Requests received on WebSocket connections, by method, shown in /state as "ws_calls": what a
  // test counts to see how much work vixy's sessions put on the node (a failover's fetches, say).
  void count_ws_call(const std::string& method);
  std::map<std::string, std::uint64_t> ws_calls_;
  struct InFlight {
    std::size_t& count;
    explicit InFlight(std::size_t& c) : count(c) { ++count; }
    ~InFlight() { --count; }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
  };

 private:
  static asio::awaitable<void> serve_rpc(std::shared_ptr<FakeNode> self, HttpConnection& connection,
                                         Request& request);
  // Writes the admin-set interim response, if any; false when the write failed.
  asio::awaitable<bool> send_interim(HttpConnection& connection, const Request& request);
  static asio::awaitable<void> block_clock(std::shared_ptr<FakeNode> self);
  void notify_change();
  json forks_json() const;
  void listening_log(const char* what, const tcp::endpoint& endpoint) const;

  asio::any_io_executor executor_;
  NodeOptions options_;
  Chain chain_;
  std::shared_ptr<HttpServer> rpc_server_;
  std::shared_ptr<HttpServer> admin_server_;
  std::shared_ptr<TlsFront> tls_front_;
  tcp::endpoint rpc_bound_;
  std::optional<tcp::endpoint> tls_bound_;
  asio::steady_timer clock_timer_;
  asio::steady_timer change_signal_;  // never expires; cancelled to wake wait_for_change()

  std::uint64_t lag_ = 0;
  std::optional<std::uint64_t> paused_at_;
  bool syncing_ = false;
  bool healthy_ = true;
  bool silent_ = false;
  std::optional<unsigned> interim_;
  bool stopped_ = false;
  std::uint64_t announced_ = 0;
  std::map<std::string, MethodOverride, std::less<>> overrides_;
};

}  // namespace vixy::fakenodes
