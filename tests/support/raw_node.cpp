#include "support/raw_node.hpp"

#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "log/log.hpp"
#include "net/awaitable.hpp"
#include "support/harness.hpp"

namespace vixy::testing {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
}  // namespace

struct RawNode::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::uint64_t requests = 0;

  static asio::awaitable<void> accept_loop(RawNode* node, std::shared_ptr<Script> script);
  static asio::awaitable<void> serve(RawNode* node, std::shared_ptr<Script> script, tcp::socket socket);
};

asio::awaitable<void> RawNode::Impl::accept_loop(RawNode* node, std::shared_ptr<Script> script) {
  for (;;) {
    auto [ec, socket] = co_await node->impl_->acceptor.async_accept(use_tuple);
    if (ec) co_return;
    ++node->connections_;
    asio::co_spawn(node->impl_->io, serve(node, script, std::move(socket)), log::report_exception("raw node connection"));
  }
}

asio::awaitable<void> RawNode::Impl::serve(RawNode* node, std::shared_ptr<Script> script, tcp::socket socket) {
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    auto [ec, n] = co_await bhttp::async_read(socket, buffer, parser, use_tuple);
    (void)n;
    if (ec) co_return;
    const auto& message = parser.get();
    RawRequest request{std::string(message.method_string()), std::string(message.target()), message.body(),
                       ++node->impl_->requests};
    {
      std::lock_guard lock(node->mutex_);
      node->targets_.push_back(request.target);
    }
    RawAnswer answer = (*script)(request);
    auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(answer.bytes), use_tuple);
    (void)wn;
    if (wec) co_return;
    if (!answer.later.empty()) {
      asio::steady_timer timer(socket.get_executor(), answer.later_after);
      co_await timer.async_wait(use_tuple);
      auto [lec, ln] = co_await asio::async_write(socket, asio::buffer(answer.later), use_tuple);
      (void)ln;
      if (lec) co_return;
      ++node->later_written_;
    }
    if (!answer.stream.empty()) {
      ++node->open_streams_;
      for (;;) {
        auto [sec, sn] = co_await asio::async_write(socket, asio::buffer(answer.stream), use_tuple);
        (void)sn;
        if (sec) break;
      }
      --node->open_streams_;
      co_return;
    }
    if (answer.close) co_return;
  }
}

RawNode::RawNode(Script script) : impl_(std::make_unique<Impl>()) {
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
  port_ = acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, Impl::accept_loop(this, std::make_shared<Script>(std::move(script))), log::report_exception("raw node accept loop"));
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

RawNode::~RawNode() {
  impl_->io.stop();
  impl_->thread.join();
}

std::vector<std::string> RawNode::targets() const {
  std::lock_guard lock(mutex_);
  return targets_;
}

std::string raw_response(int status, std::string_view body, std::string_view extra_fields) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Scripted") + "\r\n";
  out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  out += extra_fields;
  out += "\r\n";
  out += body;
  return out;
}

RawAnswer echo_target(const RawRequest& request) {
  return RawAnswer(raw_response(200, nlohmann::json{{"data", {{"target", request.target}}}}.dump()));
}

RawNode::Script beacon_script(std::function<RawAnswer(const RawRequest&)> other) {
  return [other = std::move(other)](const RawRequest& request) {
    // Whatever path prefix and query the node's URL in vixy's config has.
    std::string_view path = std::string_view(request.target).substr(0, request.target.find('?'));
    if (path.ends_with("/eth/v1/node/health")) return RawAnswer{raw_response(200, "")};
    if (path.ends_with("/eth/v1/beacon/headers/head")) {
      return RawAnswer{raw_response(200, R"({"data":{"header":{"message":{"slot":"100"}}}})")};
    }
    return other(request);
  };
}

RawNode::Script execution_script(std::function<RawAnswer(const RawRequest&)> other) {
  return [other = std::move(other)](const RawRequest& request) {
    auto call = nlohmann::json::parse(request.body, nullptr, false);
    if (call.is_object() && call.value("method", "") == "eth_blockNumber") {
      nlohmann::json answer{{"jsonrpc", "2.0"}, {"id", call["id"]}, {"result", "0x10"}};
      return RawAnswer{raw_response(200, answer.dump())};
    }
    return other(request);
  };
}

std::string raw_config(const std::string& el_url, const std::string& cl_url, const std::string& global_lines,
                       const std::string& tables) {
  std::string toml = "[global]\n";
  // Fast checks, unless the caller sets its own (TOML forbids a key twice).
  for (std::string line : {"health_check_interval_ms = 100\n", "health_check_timeout_ms = 500\n"}) {
    if (global_lines.find(line.substr(0, line.find(' '))) == std::string::npos) toml += line;
  }
  toml += global_lines;
  toml += "\n[el]\n[[el.primary]]\nname = \"el-raw\"\nhttp_url = \"" + el_url + "\"\nws_url = \"ws://127.0.0.1:1\"\n";
  if (!cl_url.empty()) toml += "\n[[cl]]\nname = \"cl-raw\"\nurl = \"" + cl_url + "\"\n";
  return toml + "\n" + tables;
}

VixyProcess::VixyProcess(const std::string& toml) : dir_("vixy-raw") {
  auto config = dir_.write("vixy.toml", toml);
  process_ = std::make_unique<chaos::ChildProcess>(
      std::vector<std::string>{proxy_bin(), "--config", config, "--listen", "127.0.0.1:0"}, dir_.file("vixy.log"));
  auto port = process_->wait_for_listening("proxy", std::chrono::seconds(15));
  if (!port) throw std::runtime_error("vixy did not start:\n" + process_->log());
  port_ = *port;
}

VixyProcess::~VixyProcess() { process_->terminate(std::chrono::seconds(5)); }

chaos::HttpResult VixyProcess::get(const std::string& target) { return chaos::get("127.0.0.1", port_, target); }

bool VixyProcess::wait_healthy(const std::string& name, std::chrono::milliseconds timeout) {
  return chaos::wait_until(
      [&] {
        auto r = get("/status");
        auto status = nlohmann::json::parse(r.body, nullptr, false);
        if (r.status != 200 || !status.is_object()) return false;
        auto node = chaos::Cluster::find_node(status, name);
        return node.is_object() && node.value("is_healthy", false);
      },
      timeout);
}

chaos::HttpResult raw_exchange(std::uint16_t port, const std::string& bytes, std::chrono::milliseconds timeout) {
  asio::io_context io;
  chaos::HttpResult result;
  auto exchange = [&]() -> asio::awaitable<void> {
    beast::tcp_stream stream(io);
    stream.expires_after(timeout);
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    auto [cec] = co_await stream.async_connect(endpoint, use_tuple);
    if (cec) {
      result.ec = cec;
      co_return;
    }
    auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(bytes), use_tuple);
    (void)wn;
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    (void)rn;
    if (wec || rec) {
      result.ec = rec ? rec : wec;
      co_return;
    }
    const auto& response = parser.get();
    result.status = static_cast<int>(response.result_int());
    for (const auto& field : response) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      result.headers[name] = std::string(field.value());
    }
    result.body = response.body();
  };
  asio::co_spawn(io, exchange(), log::report_exception("raw exchange"));
  io.run_for(timeout + std::chrono::seconds(1));
  return result;
}

}  // namespace vixy::testing
