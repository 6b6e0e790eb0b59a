// vixy-standin: TEST-ONLY deliberately broken stand-in for the proxy (see session.hpp). It exists
// to prove that the scenario runner reports the incident's defects; it is not part of the product.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include <boost/beast/websocket/rfc6455.hpp>

#include "config/config.hpp"
#include "log/log.hpp"
#include "net/listen_address.hpp"
#include "net/http_server.hpp"
#include "session.hpp"

namespace {

namespace asio = boost::asio;
namespace net = vixy::net;

constexpr const char* kUsage =
    R"(usage: vixy-standin --config FILE --listen HOST:PORT --bug BUG

TEST-ONLY: a naive, deliberately broken WebSocket relay (GET /el/ws, GET /health, GET /ready) used to show that
the chaos scenario runner catches the incident's defects. Not a proxy; never deploy it.
BUG: replay-answers, drop-during-reconnect, no-failback, drop-in-flight, unsubscribe-untranslated,
     replay-after-failback, duplicate-head-after-failback, reused-id-answered-twice, queue-drops-when-full,
     gap-left-unfilled
)";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "vixy-standin: %s\n%s", message.c_str(), kUsage);
  return 2;
}

asio::awaitable<void> handle(const vixy::standin::Settings* settings, net::HttpConnection& connection,
                             net::Request& request) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/el/ws" && boost::beast::websocket::is_upgrade(request)) {
    co_await vixy::standin::serve_websocket(*settings, connection, request);
    co_return;
  }
  // /ready too, so that a harness waiting for readiness treats it like vixy; it checks nothing.
  bool alive = path == "/health" || path == "/ready";
  net::Response response =
      net::make_response(request, alive ? net::http::status::ok : net::http::status::not_found,
                            alive ? R"({"status":"ok"})" : R"({"error":"not here"})");
  co_await connection.respond(std::move(response));
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path, listen, bug_name;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) return usage_error("missing value for \"" + std::string(arg) + "\"");
    std::string value = argv[++i];
    if (arg == "--config") {
      config_path = value;
    } else if (arg == "--listen") {
      listen = value;
    } else if (arg == "--bug") {
      bug_name = value;
    } else {
      return usage_error("unknown argument \"" + std::string(arg) + "\"");
    }
  }
  if (config_path.empty() || listen.empty()) return usage_error("--config and --listen are required");
  auto bug = vixy::standin::parse_bug(bug_name);
  if (!bug) return usage_error("--bug \"" + bug_name + "\" is not one of the bugs listed");
  auto endpoint = vixy::net::parse_listen_address(listen);
  if (!endpoint) return usage_error("--listen \"" + listen + "\": " + endpoint.problem());

  vixy::log::set_component("standin");
  vixy::standin::Settings settings;
  settings.bug = *bug;
  try {
    auto config = vixy::config::load_file(config_path);
    settings.nodes = config.el;
    settings.connect_timeout = std::chrono::milliseconds(config.global.connect_timeout_ms);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vixy-standin: configuration error: %s\n", e.what());
    return 2;
  }

  asio::io_context io(1);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  auto server = std::make_shared<net::HttpServer>(
      io.get_executor(),
      [&settings](net::HttpConnection& c, net::Request& r) { return handle(&settings, c, r); });
  if (auto ec = server->listen(*endpoint)) {
    vixy::log::error("cannot listen", {{"error", ec.message()}});
    return 1;
  }
  server->start();
  vixy::log::warn("test-only stand-in with a deliberate bug", {{"bug", bug_name}});
  vixy::log::info("listening", {{"what", "proxy"}, {"addr", vixy::net::to_string(server->local_endpoint())}});
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    vixy::log::info("stopping", {{"signal", signal}});
    io.stop();
  });
  io.run();
  return 0;
}
