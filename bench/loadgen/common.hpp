#pragma once
// vixy-loadgen's shared pieces: options, timing, latency statistics and the one-line JSON result
// every mode prints. All modes run on one thread and one io_context, so the figures it reports
// about itself (CPU seconds) are for exactly one core.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
#include "log/log.hpp"
#include "net/awaitable.hpp"
#include "net/ws_client.hpp"

namespace vixy::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

// --key value pairs; every mode reads what it needs and names a missing or bad one.
class Options {
 public:
  Options(int argc, char** argv, int first);
  std::string text(const std::string& key, const std::string& fallback) const;
  std::string required(const std::string& key) const;
  double number(const std::string& key, double fallback) const;
  tcp::endpoint endpoint(const std::string& key) const;  // "127.0.0.1:PORT"

 private:
  std::map<std::string, std::string> values_;
};

// Microseconds; percentiles by nearest rank.
class Latencies {
 public:
  void add(Clock::duration d) { us_.push_back(std::chrono::duration<double, std::micro>(d).count()); }
  std::size_t size() const { return us_.size(); }
  json summary();  // p50, p99, p999, max, mean (µs)

 private:
  std::vector<double> us_;
};

double cpu_seconds();  // this process, user + system

// The request bodies the benchmark sends: blockNumber, call4k (a 4 KiB eth_call), batch10.
std::string body_of(const std::string& kind);

// One HTTP exchange on a fresh connection (the fake node's admin API, vixy's /metrics).
struct HttpReply {
  beast::error_code ec;
  int status = 0;
  std::string body;
};
asio::awaitable<HttpReply> http_once(tcp::endpoint endpoint, http::verb verb, std::string target, std::string body);

// Connects and completes the WebSocket handshake; false on any failure.
asio::awaitable<bool> ws_open(net::WsClient& ws, const tcp::endpoint& target, const std::string& path);

// The modes; each prints one JSON object on stdout and returns the exit code.
int run_http(const Options& options);
int run_ws_rtt(const Options& options);
int run_ws_notify(const Options& options);
int run_ws_idle(const Options& options);
int run_failover(const Options& options);

}  // namespace vixy::loadgen
