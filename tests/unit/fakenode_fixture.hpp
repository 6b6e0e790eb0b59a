#pragma once
// Runs a fake node in-process on its own io_context thread, and talks to it only over loopback
// HTTP/WebSocket through the chaos clients, as the proxy and the harness will.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "chaos/http_client.hpp"
#include "chaos/process.hpp"
#include "fakenodes/cl_node.hpp"
#include "fakenodes/el_node.hpp"
#include "jsonrpc/jsonrpc.hpp"

namespace vixy::testing {

using json = nlohmann::json;
using namespace std::chrono_literals;

// The head the clock formula gives, computed here independently of the chain code.
inline std::uint64_t expected_height(std::uint64_t block_time_ms) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return 1'000'000 + static_cast<std::uint64_t>(now - 1'767'225'600'000) / block_time_ms;
}

// Polls a condition until it holds or the timeout passes: the harness's own wait, with the
// default these tests use.
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
  return chaos::wait_until(condition, timeout, 10ms);
}

class RunningNode {
 public:
  explicit RunningNode(fakenodes::NodeKind kind, std::uint64_t seed = 7, std::uint64_t block_time_ms = 1000,
                       std::string name = "") {
    fakenodes::NodeOptions options;
    options.kind = kind;
    options.chain.seed = seed;
    options.chain.block_time_ms = block_time_ms;
    options.name = name.empty() ? (kind == fakenodes::NodeKind::el ? "el" : "cl") : name;
    start(std::move(options));
  }
  explicit RunningNode(fakenodes::NodeOptions options) { start(std::move(options)); }

  ~RunningNode() {
    if (!thread_.joinable()) return;
    stop();
  }

  // Stops the node and waits for its thread; true when every coroutine unwound by itself.
  bool stop() {
    boost::asio::post(io_, [node = node_] { node->stop(); });
    bool clean = finished_.wait_for(5s) == std::future_status::ready;
    if (!clean) io_.stop();
    thread_.join();
    return clean;
  }

  std::uint16_t rpc_port() const { return rpc_port_; }
  std::uint16_t admin_port() const { return admin_port_; }
  std::uint16_t tls_port() const { return tls_port_; }

  chaos::HttpResult rpc_raw(const std::string& body, std::chrono::milliseconds timeout = 5s) const {
    return chaos::post_json("127.0.0.1", rpc_port_, "/", body, timeout);
  }
  // One JSON-RPC call over HTTP; the whole answer object.
  json rpc(const std::string& method, json params = json::array(), json id = 1) const {
    json request{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
    auto result = rpc_raw(request.dump());
    if (!result.ok()) throw std::runtime_error("rpc " + method + ": " + result.ec.message());
    return json::parse(result.body);
  }
  chaos::HttpResult admin_raw(const std::string& path, const std::string& body = "") const {
    return chaos::post_json("127.0.0.1", admin_port_, path, body);
  }
  json admin(const std::string& path, const json& body = json::object()) const {
    auto result = admin_raw(path, body.dump());
    if (!result.ok()) throw std::runtime_error("admin " + path + ": " + result.ec.message());
    return json::parse(result.body);
  }
  json state() const {
    auto result = chaos::get("127.0.0.1", admin_port_, "/state");
    if (!result.ok()) throw std::runtime_error("admin /state: " + result.ec.message());
    return json::parse(result.body).at("state");
  }

 private:
  void start(fakenodes::NodeOptions options) {
    if (options.kind == fakenodes::NodeKind::el) {
      node_ = fakenodes::ElNode::create(io_.get_executor(), std::move(options));
    } else {
      node_ = fakenodes::ClNode::create(io_.get_executor(), std::move(options));
    }
    if (auto ec = node_->start()) throw std::runtime_error("fake node did not start: " + ec.message());
    rpc_port_ = node_->rpc_endpoint().port();
    admin_port_ = node_->admin_endpoint().port();
    if (auto tls = node_->tls_endpoint()) tls_port_ = tls->port();
    // The node is handed to its thread here and only touched there from now on.
    thread_ = std::thread([this, done = std::move(done_)]() mutable {
      io_.run();
      done.set_value();
    });
  }

  boost::asio::io_context io_{1};
  std::shared_ptr<fakenodes::FakeNode> node_;
  std::promise<void> done_;
  std::future<void> finished_ = done_.get_future();
  std::thread thread_;
  std::uint16_t rpc_port_ = 0;
  std::uint16_t admin_port_ = 0;
  std::uint16_t tls_port_ = 0;
};

// A block time in ms at which notifications come quickly.
inline constexpr std::uint64_t kFastBlocks = 50;

// The node's block at `height` (without transactions), or null.
inline json block_at(const RunningNode& node, std::uint64_t height) {
  return node.rpc("eth_getBlockByNumber", {jsonrpc::to_quantity(height), false})["result"];
}

}  // namespace vixy::testing
