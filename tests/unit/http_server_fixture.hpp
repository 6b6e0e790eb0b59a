#pragma once
// An in-process HttpServer on its own thread with a small handler, and a raw HTTP/1.1 client with
// deadlines, for tests of the server plumbing itself: framing, expectations, caps, slow clients.

#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>

#include "net/awaitable.hpp"
#include "net/http_server.hpp"
#include "chaos/process.hpp"
#include "echo_fixture.hpp"

namespace vixy::testing {

// GET /health: 200 OK. POST /echo: the body back. GET /hold: answers once release() was called
// (or after 10 s). GET /big?N: N bytes.
class ServerUnderTest {
 public:
  explicit ServerUnderTest(net::ServerLimits limits = {}) {
    server_ = std::make_shared<net::HttpServer>(
        io_.get_executor(), [this](net::HttpConnection& c, net::Request& r) { return handle(c, r); }, limits);
    auto ec = server_->listen(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
    if (ec) throw std::runtime_error("listen: " + ec.message());
    port_ = server_->local_endpoint().port();
  }
  ~ServerUnderTest() { stop(); }

  template <class Setup>
  void start(Setup setup) {
    setup(*server_);
    start();
  }
  void start() {
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  void stop() {
    if (!thread_.joinable()) return;
    release();
    asio::post(io_, [this] {
      server_->stop_accepting();
      server_->close_connections();
    });
    // The connections unwind on the server's thread; then nothing is left to run.
    chaos::wait_until([&] { return connection_count() == 0; }, std::chrono::seconds(5));
    work_.reset();
    io_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  void release() { released_ = true; }
  std::size_t handlers_running() const { return running_; }
  std::size_t connection_count() {
    return on_server([&] { return server_->connection_count(); });
  }

  // Runs `f` on the server's thread and returns its result.
  template <class F>
  auto on_server(F f) -> decltype(f()) {
    std::promise<decltype(f())> result;
    asio::post(io_, [&] { result.set_value(f()); });
    return result.get_future().get();
  }

 private:
  asio::awaitable<void> handle(net::HttpConnection& connection, net::Request& request) {
    ++running_;
    std::string_view target = request.target();
    net::Response response;
    if (target == "/hold") {
      asio::steady_timer tick(io_);
      auto until = Clock::now() + std::chrono::seconds(10);
      while (!released_ && Clock::now() < until) {
        tick.expires_after(std::chrono::milliseconds(5));
        co_await tick.async_wait(use_tuple);
      }
      response = net::make_response(request, net::http::status::ok, "held", "text/plain");
    } else if (target.starts_with("/big?")) {
      std::string body(std::stoul(std::string(target.substr(5))), 'x');
      response = net::make_response(request, net::http::status::ok, std::move(body), "text/plain");
    } else if (target == "/echo") {
      response = net::make_response(request, net::http::status::ok, request.body(), "text/plain");
    } else if (target == "/health") {
      response = net::make_response(request, net::http::status::ok, "OK", "text/plain");
    } else {
      response = net::make_response(request, net::http::status::not_found, "{}");
    }
    --running_;
    co_await connection.respond(std::move(response));
  }

  asio::io_context io_{1};
  // Keeps io_.run() going when no connection is open, so that on_server() always gets an answer.
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::shared_ptr<net::HttpServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> released_{false};
  std::atomic<std::size_t> running_{0};
};

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  std::string header(const std::string& name) const {
    auto at = headers.find(name);
    return at == headers.end() ? "" : at->second;
  }
};

// Reads one response (status line, headers, Content-Length body) from a RawClient; nullopt when it
// did not all arrive within the timeout. 1xx answers are returned like any other.
inline std::optional<RawResponse> read_response(RawClient& client,
                                                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = Clock::now() + timeout;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  };
  std::string head;
  while (!head.ends_with("\r\n\r\n")) {
    auto byte = client.read(1, left());
    if (!byte) return std::nullopt;
    head += *byte;
  }
  RawResponse response;
  if (head.size() < 12 || !head.starts_with("HTTP/1.")) return std::nullopt;
  response.status = std::stoi(head.substr(9, 3));
  std::size_t at = head.find("\r\n") + 2;
  while (at < head.size() - 2) {
    auto end = head.find("\r\n", at);
    auto line = head.substr(at, end - at);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      response.headers[name] = value;
    }
    at = end + 2;
  }
  if (auto length = response.header("content-length"); !length.empty() && std::stoul(length) > 0) {
    auto body = client.read(std::stoul(length), left());
    if (!body) return std::nullopt;
    response.body = *body;
  }
  return response;
}

}  // namespace vixy::testing
