#pragma once
// Small synchronous clients for tests, the demo and the harness: one HTTP exchange, a WebSocket
// text client, and a Server-Sent Events reader. Each runs its own private io_context only while
// one of its calls is running, and every call is bounded by a timeout, so a stuck peer can never
// hang the caller.

#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vixy::chaos {

using namespace std::chrono_literals;
using error_code = boost::system::error_code;
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResult {
  error_code ec;  // transport failure (refused, reset, timed out); status and body are then empty
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  bool ok() const { return !ec; }
};

// One request on a fresh connection (Connection: close). The timeout bounds the whole exchange.
HttpResult http_request(const std::string& host, std::uint16_t port, boost::beast::http::verb verb,
                        std::string target, std::string body = "", const HttpHeaders& headers = {},
                        std::chrono::milliseconds timeout = 5s);
HttpResult post_json(const std::string& host, std::uint16_t port, std::string target, std::string body,
                     std::chrono::milliseconds timeout = 5s);
HttpResult get(const std::string& host, std::uint16_t port, std::string target,
               std::chrono::milliseconds timeout = 5s);

class WsClient {
 public:
  WsClient();
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  error_code connect(const std::string& host, std::uint16_t port, const std::string& target = "/",
                     std::chrono::milliseconds timeout = 5s);
  error_code send(const std::string& text, std::chrono::milliseconds timeout = 5s);
  // A binary frame: tests use it to see how a JSON-RPC server treats one.
  error_code send_binary(const std::string& data, std::chrono::milliseconds timeout = 5s);
  // The next text message; nullopt when none came within the timeout or the connection closed.
  std::optional<std::string> receive(std::chrono::milliseconds timeout);
  // Sends a ping and waits for the pong (messages that arrive meanwhile are kept for receive()).
  bool ping(std::chrono::milliseconds timeout);
  void close(std::chrono::milliseconds timeout = 1s);

  bool closed() const;     // the connection ended (either side)
  int close_code() const;  // the peer's close frame code, 0 when there was none
  error_code last_error() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct SseEvent {
  std::string event;  // "message" when the stream gave no name
  std::string data;   // data lines joined by '\n'
  std::string id;
};

class SseReader {
 public:
  SseReader();
  ~SseReader();
  SseReader(const SseReader&) = delete;
  SseReader& operator=(const SseReader&) = delete;

  // GETs target with Accept: text/event-stream and reads the response header.
  error_code open(const std::string& host, std::uint16_t port, const std::string& target,
                  std::chrono::milliseconds timeout = 5s);
  int status() const;  // the response status (valid after open)
  std::string content_type() const;
  // The next complete event; nullopt on timeout or when the stream ended.
  std::optional<SseEvent> next(std::chrono::milliseconds timeout);
  bool closed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vixy::chaos
