#include "chaos/inject_cli.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include "chaos/injector.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "log/log.hpp"
#include "net/listen_address.hpp"
#include "net/http_server.hpp"

namespace vixy::chaos {
namespace {

using json = nlohmann::json;
constexpr std::uint64_t kMaxMs = 86'400'000;  // a day: anything longer is a typo, not a fault

constexpr const char* kUsage = R"(usage: vixy-chaos inject --target HOST:PORT [--listen PORT] [--control PORT]

  Relays 127.0.0.1:PORT (--listen, default: a free port) to HOST:PORT with faults switched at run
  time through a control API on 127.0.0.1 (--control, default: a free port). Both ports are logged
  as "msg=listening what=relay|control addr=127.0.0.1:PORT".

  GET  /state
  POST /latency     {"direction":"to_node|to_client|both","ms":N,"jitter_ms":N}
  POST /bandwidth   {"direction":...,"bytes_per_second":N}       (0: unlimited)
  POST /blackhole   {"on":true|false}
  POST /slow-close  {"ms":N}
  POST /reset | /close-all | /kill | /restart | /clear           (no body, or {})
)";

struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The body's keys, checked against what a command takes.
struct Body {
  const json& doc;
  void only(std::initializer_list<const char*> allowed) const {
    for (const auto& [key, value] : doc.items()) {
      bool known = false;
      for (const char* a : allowed) known = known || key == a;
      if (!known) throw BadRequest("unknown key \"" + key + "\"");
    }
  }
  std::optional<std::uint64_t> number(const char* key, bool required, std::uint64_t max = kMaxMs) const {
    auto it = doc.find(key);
    if (it == doc.end()) {
      if (required) throw BadRequest(std::string("\"") + key + "\" is required");
      return std::nullopt;
    }
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() > max) {
      throw BadRequest(std::string("\"") + key + "\" must be an integer from 0 to " + std::to_string(max));
    }
    return it->get<std::uint64_t>();
  }
  Direction direction() const {
    auto it = doc.find("direction");
    if (it == doc.end()) return Direction::both;
    if (it->is_string()) {
      const auto& text = it->get_ref<const std::string&>();
      if (text == "to_node") return Direction::to_node;
      if (text == "to_client") return Direction::to_client;
      if (text == "both") return Direction::both;
    }
    throw BadRequest("\"direction\" must be \"to_node\", \"to_client\" or \"both\"");
  }
};

using Command = std::function<void(FaultInjector&, const Body&)>;

const std::map<std::string, Command, std::less<>>& commands() {
  using ms = std::chrono::milliseconds;
  static const std::map<std::string, Command, std::less<>> table = {
      {"/latency",
       [](FaultInjector& f, const Body& b) {
         b.only({"direction", "ms", "jitter_ms"});
         auto latency = *b.number("ms", true);
         auto jitter = b.number("jitter_ms", false).value_or(0);
         f.set_latency(b.direction(), ms(latency), ms(jitter));
       }},
      {"/bandwidth",
       [](FaultInjector& f, const Body& b) {
         b.only({"direction", "bytes_per_second"});
         auto rate = *b.number("bytes_per_second", true, UINT64_MAX);
         f.set_bandwidth(b.direction(), rate);
       }},
      {"/blackhole",
       [](FaultInjector& f, const Body& b) {
         b.only({"on"});
         auto on = b.doc.find("on");
         if (on == b.doc.end() || !on->is_boolean()) throw BadRequest("\"on\" must be true or false");
         f.set_blackhole(on->get<bool>());
       }},
      {"/slow-close",
       [](FaultInjector& f, const Body& b) {
         b.only({"ms"});
         f.set_slow_close(ms(*b.number("ms", true)));
       }},
      {"/reset", [](FaultInjector& f, const Body& b) { b.only({}), f.reset_peers(); }},
      {"/close-all", [](FaultInjector& f, const Body& b) { b.only({}), f.close_all(); }},
      {"/kill", [](FaultInjector& f, const Body& b) { b.only({}), f.kill(); }},
      {"/restart",
       [](FaultInjector& f, const Body& b) {
         b.only({});
         f.restart();
         if (!f.listening()) throw std::runtime_error(f.state().value("error", std::string("restart failed")));
       }},
      {"/clear", [](FaultInjector& f, const Body& b) { b.only({}), f.clear(); }},
  };
  return table;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

boost::asio::awaitable<void> serve_control(FaultInjector* injector, net::HttpConnection& connection,
                                           net::Request& request);

int usage_error(const std::string& message) {
  std::fprintf(stderr, "vixy-chaos inject: %s\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

std::pair<int, json> control_request(FaultInjector& injector, bool is_get, std::string_view path,
                                     std::string_view body) {
  auto fail = [](int status, std::string why) { return std::pair{status, json{{"ok", false}, {"error", why}}}; };
  if (path == "/state") {
    if (!is_get) return fail(405, "use GET /state");
    return {200, json{{"ok", true}, {"state", injector.state()}}};
  }
  auto command = commands().find(path);
  if (command == commands().end()) return fail(404, "no control command " + std::string(path));
  if (is_get) return fail(405, "use POST " + std::string(path));
  json doc = json::object();
  if (!body.empty()) {
    auto parsed = jsonrpc::parse(body);
    if (!parsed) return fail(400, "body is not valid JSON");
    if (!parsed->is_object()) return fail(400, "body must be a JSON object");
    doc = std::move(*parsed);
  }
  try {
    command->second(injector, Body{doc});
  } catch (const BadRequest& e) {
    return fail(400, std::string(path) + ": " + e.what());
  } catch (const std::exception& e) {
    return fail(500, std::string(path) + ": " + e.what());
  }
  log::info("control", {{"command", path}, {"body", doc.dump()}});
  return {200, json{{"ok", true}, {"state", injector.state()}}};
}

namespace {
boost::asio::awaitable<void> serve_control(FaultInjector* injector, net::HttpConnection& connection,
                                           net::Request& request) {
  std::string_view target = request.target();
  auto [status, answer] = control_request(*injector, request.method() == net::http::verb::get,
                                          target.substr(0, target.find('?')), request.body());
  // Built outside the co_await: GCC 12 may destroy temporaries of a co_await expression twice.
  net::Response response = net::make_response(request, static_cast<net::http::status>(status), answer.dump());
  co_await connection.respond(std::move(response));
}
}  // namespace

int run_inject(const std::vector<std::string_view>& args) {
  std::string target_text;
  std::uint16_t listen_port = 0, control_port = 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= args.size()) return usage_error("unknown argument or missing value: \"" + std::string(arg) + "\"");
    std::string_view value = args[++i];
    if (arg == "--target") {
      target_text = value;
    } else if (arg == "--listen" || arg == "--control") {
      auto port = parse_port(value);
      if (!port)
        return usage_error(std::string(arg) + " needs a port number (0-65535), got \"" + std::string(value) + "\"");
      (arg == "--listen" ? listen_port : control_port) = *port;
    } else {
      return usage_error("unknown argument \"" + std::string(arg) + "\"");
    }
  }
  if (target_text.empty()) return usage_error("--target HOST:PORT is required");
  auto target = net::parse_listen_address(target_text);
  if (!target || target->port() == 0) {
    return usage_error("--target \"" + target_text + "\": " + (target ? "port must not be 0" : target.problem()));
  }

  log::set_component("inject");
  namespace asio = boost::asio;
  asio::io_context io(1);
  // Signals first: a SIGTERM that arrives while the listeners open must still stop us cleanly.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::unique_ptr<FaultInjector> injector;
  try {
    injector = std::make_unique<FaultInjector>(target->address().to_string(), target->port(), listen_port);
  } catch (const std::exception& e) {
    log::error("cannot start", {{"error", e.what()}});
    return 1;
  }
  auto* relay = injector.get();
  auto control = std::make_shared<net::HttpServer>(
      io.get_executor(), [relay](net::HttpConnection& c, net::Request& r) { return serve_control(relay, c, r); });
  if (auto ec = control->listen({asio::ip::make_address_v4("127.0.0.1"), control_port})) {
    log::error("cannot listen", {{"what", "control"}, {"error", ec.message()}});
    return 1;
  }
  control->start();
  log::info("listening", {{"what", "relay"}, {"addr", "127.0.0.1:" + std::to_string(injector->port())}});
  log::info("listening", {{"what", "control"}, {"addr", net::to_string(control->local_endpoint())}});
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::info("stopping", {{"signal", signal}});
    control->stop_accepting();
    control->close_connections();
    io.stop();
  });
  io.run();
  injector.reset();
  return 0;
}

}  // namespace vixy::chaos
