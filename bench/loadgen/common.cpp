#include "common.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace vixy::loadgen {

Options::Options(int argc, char** argv, int first) {
  for (int i = first; i < argc; i += 2) {
    std::string key = argv[i];
    if (!key.starts_with("--") || i + 1 >= argc) throw std::invalid_argument("expected --key value, got '" + key + "'");
    values_[key.substr(2)] = argv[i + 1];
  }
}

std::string Options::text(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

std::string Options::required(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw std::invalid_argument("--" + key + " is required");
  return it->second;
}

double Options::number(const std::string& key, double fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    throw std::invalid_argument("--" + key + ": expected a number, got '" + it->second + "'");
  }
}

tcp::endpoint Options::endpoint(const std::string& key) const {
  std::string value = required(key);
  auto colon = value.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("--" + key + ": expected HOST:PORT, got '" + value + "'");
  boost::system::error_code ec;
  auto address = asio::ip::make_address(value.substr(0, colon), ec);
  if (ec) throw std::invalid_argument("--" + key + ": bad address '" + value + "'");
  return {address, static_cast<std::uint16_t>(std::stoi(value.substr(colon + 1)))};
}

json Latencies::summary() {
  json out = json::object();
  out["count"] = us_.size();
  if (us_.empty()) return out;
  std::sort(us_.begin(), us_.end());
  auto rank = [&](double q) {
    auto index = static_cast<std::size_t>(std::ceil(q * static_cast<double>(us_.size())));
    return us_[std::min(us_.size() - 1, index == 0 ? 0 : index - 1)];
  };
  double sum = 0;
  for (double v : us_) sum += v;
  out["p50_us"] = rank(0.50);
  out["p99_us"] = rank(0.99);
  out["p999_us"] = rank(0.999);
  out["max_us"] = us_.back();
  out["mean_us"] = sum / static_cast<double>(us_.size());
  return out;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

namespace {
std::string block_number(int id) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":"eth_blockNumber","params":[]})";
}
}  // namespace

std::string body_of(const std::string& kind) {
  if (kind == "blockNumber") return block_number(1);
  if (kind == "call4k") {
    std::string head =
        R"({"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"to":"0x00000000000000000000000000000000deadbeef","data":"0x)";
    std::string tail = R"("},"latest"]})";
    return head + std::string(4096 - head.size() - tail.size(), 'a') + tail;
  }
  if (kind == "batch10") {
    std::string body = "[";
    for (int i = 1; i <= 10; ++i) body += (i > 1 ? "," : "") + block_number(i);
    return body + "]";
  }
  throw std::invalid_argument("--body: expected blockNumber, call4k or batch10, got '" + kind + "'");
}

asio::awaitable<HttpReply> http_once(tcp::endpoint endpoint, http::verb verb, std::string target, std::string body) {
  HttpReply reply;
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(std::chrono::seconds(5));
  auto [connect_ec] = co_await stream.async_connect(endpoint, use_tuple);
  if (connect_ec) {
    reply.ec = connect_ec;
    co_return reply;
  }
  http::request<http::string_body> request{verb, target, 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::content_type, "application/json");
  request.keep_alive(false);
  request.body() = std::move(body);
  request.prepare_payload();
  auto [write_ec, written] = co_await http::async_write(stream, request, use_tuple);
  if (write_ec) {
    reply.ec = write_ec;
    co_return reply;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  auto [read_ec, read] = co_await http::async_read(stream, buffer, response, use_tuple);
  reply.ec = read_ec;
  reply.status = static_cast<int>(response.result_int());
  reply.body = std::move(response.body());
  co_return reply;
}

}  // namespace vixy::loadgen
