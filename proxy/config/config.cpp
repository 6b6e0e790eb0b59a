#include "config/config.hpp"

#include <toml++/toml.h>
#include <boost/asio/ip/address.hpp>
#include <boost/url.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vixy::config {

namespace {

// Durations are handed to Asio timers as nanoseconds; capping them at a day keeps every
// conversion far from overflow and still allows any sane setting.
constexpr std::uint64_t kMaxDurationMs = 86'400'000;
constexpr std::uint64_t kUnbounded = std::numeric_limits<std::uint64_t>::max();

struct Range {
  std::uint64_t min = 0;
  std::uint64_t max = kUnbounded;
};

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string indexed(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::string list_keys(std::initializer_list<std::string_view> keys) {
  std::string out;
  for (auto key : keys) {
    if (!out.empty()) out += ", ";
    out += key;
  }
  return out;
}

// Only ever echo a scheme back when it is short: the scheme is not secret, but a malformed value
// such as "apikey:..." would otherwise leak what precedes the colon.
std::string quoted_scheme(std::string_view scheme) {
  if (scheme.size() > 16) return "an unsupported scheme";
  return "\"" + std::string(scheme) + "\"";
}

// Why `text` is not an acceptable upstream URL, or nullopt when it is. Never includes the URL.
std::optional<std::string> url_problem(std::string_view text,
                                       std::initializer_list<boost::urls::scheme> allowed,
                                       std::string_view allowed_names) {
  if (text.empty()) return "must not be empty";
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    return "is not a valid URL (expected SCHEME://HOST[:PORT][/PATH] with scheme " +
           std::string(allowed_names) + ")";
  }
  const boost::urls::url_view& url = *parsed;
  bool scheme_ok = false;
  for (auto scheme : allowed) scheme_ok = scheme_ok || url.scheme_id() == scheme;
  if (!scheme_ok) {
    return "scheme must be " + std::string(allowed_names) + ", got " + quoted_scheme(url.scheme());
  }
  if (!url.has_authority() || url.encoded_host().empty()) return "URL must include a host";
  // The grammar already made the port all digits; an empty port ("host:") means the default one.
  if (auto port = url.port(); !port.empty()) {
    if (port.size() > 5 || std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535) {
      return "port must be between 1 and 65535";
    }
  }
  return std::nullopt;
}

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
         c == '_';
}

// Why `text` is not a HOST:PORT listen address, or nullopt when it is. Listen addresses hold no
// secrets, so the reason may quote the value.
std::optional<std::string> listen_problem(std::string_view text) {
  const std::string shape = "must look like HOST:PORT (e.g. \"127.0.0.1:8080\" or \"[::1]:8080\")";
  const std::string got = ", got \"" + std::string(text) + "\"";
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return shape + got;
    }
    if (!boost::urls::parse_ipv6_address(text.substr(1, close - 1))) {
      return "the address in brackets is not a valid IPv6 address" + got;
    }
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return shape + got;
    auto host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      return "an IPv6 host must be written in brackets, e.g. \"[::1]:8080\"" + got;
    }
    if (host.empty()) return "the host is missing; " + shape + got;
    for (char c : host) {
      if (!host_char(c)) return "the host contains an invalid character" + got;
    }
    port = text.substr(colon + 1);
  }
  if (!all_digits(port) || port.size() > 5 || std::stoul(std::string(port)) > 65535) {
    return "the port must be a number from 0 to 65535" + got;
  }
  return std::nullopt;
}

// Walks the parsed document once, filling a Config and throwing ConfigError at the first problem.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  Config read(const toml::table& root) {
    Config config;
    config.source_path = source_;
    reject_unknown_keys(root, "", {"global", "metrics", "server", "tls", "websocket", "methods", "limits", "routing", "el", "cl"});
    if (auto* t = optional_table(root, "global", "")) read_global(*t, config.global);
    if (auto* t = optional_table(root, "metrics", "")) read_metrics(*t, config.metrics);
    if (auto* t = optional_table(root, "server", "")) read_server(*t, config.server);
    if (auto* t = optional_table(root, "tls", "")) read_tls(*t, config.tls);
    if (auto* t = optional_table(root, "websocket", "")) read_websocket(*t, config.websocket);
    if (auto* t = optional_table(root, "methods", "")) read_methods(*t, config.methods);
    if (auto* t = optional_table(root, "limits", "")) read_limits(*t, config.limits);
    if (auto* t = optional_table(root, "routing", "")) read_routing(*t, config.routing);
    read_el(root, config.el);
    read_cl(root, config.cl);
    return config;
  }

 private:
  [[noreturn]] void fail(const toml::source_region& where, const std::string& key,
                         std::string_view reason) const {
    if (where.begin.line == 0) fail(key, reason);
    throw ConfigError(source_ + ":" + std::to_string(where.begin.line) + ": " + key + ": " +
                      std::string(reason));
  }

  [[noreturn]] void fail(const std::string& key, std::string_view reason) const {
    throw ConfigError(source_ + ": " + key + ": " + std::string(reason));
  }

  void reject_unknown_keys(const toml::table& table, const std::string& path,
                           std::initializer_list<std::string_view> allowed) const {
    for (auto&& [key, node] : table) {
      bool known = false;
      for (auto name : allowed) known = known || key.str() == name;
      if (!known) {
        const auto& where = node.source().begin.line != 0 ? node.source() : key.source();
        fail(where, join(path, key.str()), "unknown key (expected one of: " + list_keys(allowed) + ")");
      }
    }
  }

  const toml::table* optional_table(const toml::table& parent, std::string_view key,
                                    const std::string& parent_path) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table())
      fail(node->source(), join(parent_path, key), "expected a table, got " + type_name(*node));
    return node->as_table();
  }

  // The array of tables at `key` (e.g. [[el.primary]]), or nullptr when the key is absent.
  const toml::array* optional_table_array(const toml::table& parent, std::string_view key,
                                          const std::string& path) const {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return nullptr;
    if (!node->is_array()) {
      fail(node->source(), path, "expected an array of tables ([[" + path + "]]), got " + type_name(*node));
    }
    const toml::array& array = *node->as_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      if (!array[i].is_table()) {
        fail(array[i].source(), indexed(path, i), "expected a table, got " + type_name(array[i]));
      }
    }
    return &array;
  }

  std::optional<std::uint64_t> optional_uint(const toml::table& table, std::string_view key,
                                             const std::string& table_path, Range range) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    const std::string path = join(table_path, key);
    if (!node->is_integer()) {
      fail(node->source(), path, "expected a non-negative integer, got " + type_name(*node));
    }
    const std::int64_t value = node->as_integer()->get();
    const std::string got = ", got " + std::to_string(value);
    if (value < 0 && range.min == 0) fail(node->source(), path, "must not be negative" + got);
    if (value < 0 || static_cast<std::uint64_t>(value) < range.min) {
      fail(node->source(), path,
           (range.min == 1 ? std::string("must be greater than 0")
                           : "must be at least " + std::to_string(range.min)) +
               got);
    }
    if (static_cast<std::uint64_t>(value) > range.max) {
      fail(node->source(), path, "must be at most " + std::to_string(range.max) + got);
    }
    return static_cast<std::uint64_t>(value);
  }

  template <typename Field>
  void read_uint(const toml::table& table, std::string_view key, const std::string& table_path, Range range,
                 Field& field) const {
    range.max = std::min<std::uint64_t>(range.max, std::numeric_limits<Field>::max());
    if (auto value = optional_uint(table, key, table_path, range)) field = static_cast<Field>(*value);
  }

  std::optional<std::string> optional_string(const toml::table& table, std::string_view key,
                                             const std::string& table_path) const {
    const toml::node* node = table.get(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_string()) {
      fail(node->source(), join(table_path, key), "expected a string, got " + type_name(*node));
    }
    return node->as_string()->get();
  }

  std::string required_string(const toml::table& table, std::string_view key,
                              const std::string& table_path) const {
    auto value = optional_string(table, key, table_path);
    if (!value) fail(table.source(), join(table_path, key), "missing required key");
    return std::move(*value);
  }

  void read_global(const toml::table& t, Global& global) const {
    const std::string path = "global";
    reject_unknown_keys(
        t, path,
        {"max_el_lag_blocks", "max_cl_lag_slots", "health_check_interval_ms", "health_check_timeout_ms",
         "proxy_timeout_ms", "connect_timeout_ms", "max_retries", "health_check_max_failures", "max_body_size",
         "max_json_depth", "max_batch_size"});
    const Range any{};
    const Range duration{1, kMaxDurationMs};
    read_uint(t, "max_el_lag_blocks", path, any, global.max_el_lag_blocks);
    read_uint(t, "max_cl_lag_slots", path, any, global.max_cl_lag_slots);
    read_uint(t, "health_check_interval_ms", path, duration, global.health_check_interval_ms);
    read_uint(t, "health_check_timeout_ms", path, duration, global.health_check_timeout_ms);
    read_uint(t, "proxy_timeout_ms", path, duration, global.proxy_timeout_ms);
    read_uint(t, "connect_timeout_ms", path, duration, global.connect_timeout_ms);
    read_uint(t, "max_retries", path, any, global.max_retries);
    read_uint(t, "health_check_max_failures", path, Range{1, kUnbounded}, global.health_check_max_failures);
    read_uint(t, "max_body_size", path, Range{1, kUnbounded}, global.max_body_size);
    // A request object with array params is two levels deep, in a batch three. Trees are copied
    // recursively: 60,000 levels crashed the process, so the ceiling keeps a wide margin.
    read_uint(t, "max_json_depth", path, Range{3, 10'000}, global.max_json_depth);
    read_uint(t, "max_batch_size", path, Range{1, 1'000'000}, global.max_batch_size);
  }

  void read_metrics(const toml::table& t, Metrics& metrics) const {
    const std::string path = "metrics";
    reject_unknown_keys(t, path, {"enabled", "port", "host"});
    if (const toml::node* node = t.get("enabled")) {
      if (!node->is_boolean()) {
        fail(node->source(), "metrics.enabled",
             "expected a boolean (true or false), got " + type_name(*node));
      }
      metrics.enabled = node->as_boolean()->get();
    }
    if (auto port = optional_uint(t, "port", path, Range{1, 65535})) {
      metrics.port = static_cast<std::uint16_t>(*port);
    }
    metrics.host = optional_ip(t, "host", path);
  }

  std::optional<std::string> optional_ip(const toml::table& t, std::string_view key, const std::string& path) const {
    auto host = optional_string(t, key, path);
    if (host && !boost::urls::parse_ipv4_address(*host) && !boost::urls::parse_ipv6_address(*host)) {
      fail(t.get(key)->source(), join(path, key),
           "must be an IP address (e.g. \"127.0.0.1\", \"0.0.0.0\" or \"::\"), got \"" + *host + "\"");
    }
    return host;
  }

  void read_server(const toml::table& t, Server& server) const {
    const std::string path = "server";
    reject_unknown_keys(t, path,
                        {"listen", "shutdown_timeout_ms", "client_write_timeout_ms", "max_connections",
                         "max_connections_per_ip", "max_buffered_bytes", "threads", "host", "port"});
    if (auto listen = optional_string(t, "listen", path)) {
      if (auto problem = listen_problem(*listen)) fail(t.get("listen")->source(), "server.listen", *problem);
      server.listen = std::move(*listen);
    }
    // Vixy's own files (its Kurtosis config) write the address as host and port.
    auto host = optional_ip(t, "host", path);
    auto port = optional_uint(t, "port", path, Range{0, 65535});
    if (host || port) {
      const char* key = port ? "port" : "host";
      if (server.listen) fail(t.get(key)->source(), join(path, key), "give either listen or host and port, not both");
      std::string address = host.value_or("127.0.0.1");
      if (address.find(':') != std::string::npos) address = "[" + address + "]";
      server.listen = address + ":" + std::to_string(port.value_or(8080));
    }
    read_uint(t, "shutdown_timeout_ms", path, Range{1, kMaxDurationMs}, server.shutdown_timeout_ms);
    read_uint(t, "client_write_timeout_ms", path, Range{1, kMaxDurationMs}, server.client_write_timeout_ms);
    read_uint(t, "max_connections", path, Range{0, 10'000'000}, server.max_connections);
    read_uint(t, "max_connections_per_ip", path, Range{0, 10'000'000}, server.max_connections_per_ip);
    read_uint(t, "max_buffered_bytes", path, Range{1024 * 1024, kUnbounded}, server.max_buffered_bytes);
    read_uint(t, "threads", path, Range{0, 1024}, server.threads);
  }

  void read_websocket(const toml::table& t, WebSocket& ws) const {
    const std::string path = "websocket";
    reject_unknown_keys(t, path,
                        {"max_pending_requests", "max_subscriptions", "max_message_size", "max_upstream_message_size",
                         "ping_interval_ms", "pong_timeout_ms", "reconnect_backoff_ms", "reconnect_backoff_max_ms",
                         "backfill_blocks", "max_pending_bytes", "max_client_backlog_bytes", "upstream_connections"});
    const Range count{1, 1'000'000};
    const Range bytes{1024, std::uint64_t{1} << 32};
    const Range duration{1, kMaxDurationMs};
    read_uint(t, "max_pending_requests", path, count, ws.max_pending_requests);
    read_uint(t, "max_subscriptions", path, count, ws.max_subscriptions);
    read_uint(t, "max_message_size", path, bytes, ws.max_message_size);
    read_uint(t, "max_upstream_message_size", path, bytes, ws.max_upstream_message_size);
    read_uint(t, "ping_interval_ms", path, duration, ws.ping_interval_ms);
    read_uint(t, "pong_timeout_ms", path, duration, ws.pong_timeout_ms);
    read_uint(t, "reconnect_backoff_ms", path, duration, ws.reconnect_backoff_ms);
    read_uint(t, "reconnect_backoff_max_ms", path, duration, ws.reconnect_backoff_max_ms);
    read_uint(t, "backfill_blocks", path, Range{1, 8192}, ws.backfill_blocks);
    read_uint(t, "max_pending_bytes", path, bytes, ws.max_pending_bytes);
    read_uint(t, "max_client_backlog_bytes", path, bytes, ws.max_client_backlog_bytes);
    read_uint(t, "upstream_connections", path, Range{1, 1024}, ws.upstream_connections);
    if (ws.reconnect_backoff_max_ms < ws.reconnect_backoff_ms) {
      fail(t.get("reconnect_backoff_max_ms") ? t.get("reconnect_backoff_max_ms")->source() : t.source(),
           "websocket.reconnect_backoff_max_ms", "must not be smaller than websocket.reconnect_backoff_ms");
    }
  }

  void read_routing(const toml::table& t, Routing& routing) const {
    const std::string path = "routing";
    reject_unknown_keys(t, path, {"strategy"});
    if (auto strategy = optional_string(t, "strategy", path)) {
      if (*strategy != "priority" && *strategy != "round_robin" && *strategy != "least_latency") {
        fail(t.get("strategy")->source(), "routing.strategy",
             "expected \"priority\", \"round_robin\" or \"least_latency\", got \"" + strategy->substr(0, 64) + "\"");
      }
      routing.strategy = std::move(*strategy);
    }
  }

  void read_limits(const toml::table& t, Limits& limits) const {
    const std::string path = "limits";
    reject_unknown_keys(t, path, {"requests_per_second", "burst", "trusted_proxies"});
    read_uint(t, "requests_per_second", path, Range{0, 1'000'000'000}, limits.requests_per_second);
    read_uint(t, "burst", path, Range{0, 1'000'000'000}, limits.burst);
    if (limits.burst == 0) limits.burst = limits.requests_per_second;
    const toml::node* node = t.get("trusted_proxies");
    if (node == nullptr) return;
    const std::string key = join(path, "trusted_proxies");
    if (!node->is_array()) fail(node->source(), key, "expected an array of addresses or CIDR blocks, got " + type_name(*node));
    const toml::array& array = *node->as_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      const toml::node& entry = array[i];
      const auto& where = entry.source().begin.line != 0 ? entry.source() : node->source();
      auto cidr = entry.is_string() ? parse_cidr(entry.as_string()->get()) : std::nullopt;
      if (!cidr) {
        fail(where, indexed(key, i),
             "expected an address or CIDR block as a string (\"10.0.0.0/8\", \"2001:db8::/32\", \"127.0.0.1\")");
      }
      limits.trusted_proxies.push_back(*cidr);
    }
  }

  void read_methods(const toml::table& t, Methods& methods) const {
    const std::string path = "methods";
    reject_unknown_keys(t, path, {"allow", "deny"});
    read_method_list(t, "allow", path, methods.allow);
    read_method_list(t, "deny", path, methods.deny);
  }

  // Method names are ASCII letters, digits and '_' (every Ethereum namespace's are); a '*' may end
  // an entry as a prefix. Anything else could never match and is a mistake worth stopping for.
  void read_method_list(const toml::table& t, std::string_view key, const std::string& table_path,
                        std::vector<std::string>& out) const {
    const toml::node* node = t.get(key);
    if (node == nullptr) return;
    const std::string path = join(table_path, key);
    if (!node->is_array()) fail(node->source(), path, "expected an array of method names, got " + type_name(*node));
    const toml::array& array = *node->as_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      const toml::node& entry = array[i];
      const auto& where = entry.source().begin.line != 0 ? entry.source() : node->source();
      if (!entry.is_string()) fail(where, indexed(path, i), "expected a method name (a string), got " + type_name(entry));
      std::string_view name = entry.as_string()->get();
      std::string_view stem = name.ends_with('*') ? name.substr(0, name.size() - 1) : name;
      bool word = std::all_of(stem.begin(), stem.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      });
      if (name.empty() || !word) {
        fail(where, indexed(path, i),
             "\"" + std::string(name.substr(0, 64)) +
                 "\" is not a method name or prefix: letters, digits and '_', optionally ending in '*' (\"debug_*\")");
      }
      out.emplace_back(name);
    }
  }

  void read_tls(const toml::table& t, Tls& tls) const {
    const std::string path = "tls";
    reject_unknown_keys(t, path, {"ca_file"});
    if (auto ca_file = optional_string(t, "ca_file", path)) {
      if (ca_file->empty()) fail(t.get("ca_file")->source(), "tls.ca_file", "must not be empty");
      tls.ca_file = std::move(*ca_file);
    }
  }

  std::string read_name(const toml::table& node_table, const std::string& node_path,
                        std::map<std::string, std::string>& seen) const {
    std::string name = required_string(node_table, "name", node_path);
    const auto& where = node_table.get("name")->source();
    if (name.empty()) fail(where, node_path + ".name", "must not be empty");
    auto [first, inserted] = seen.emplace(name, node_path + ".name");
    if (!inserted) {
      fail(where, node_path + ".name",
           "duplicate node name \"" + name + "\" (already used by " + first->second + ")");
    }
    return name;
  }

  std::string read_url(const toml::table& node_table, std::string_view key, const std::string& node_path,
                       std::initializer_list<boost::urls::scheme> schemes,
                       std::string_view scheme_names) const {
    std::string url = required_string(node_table, key, node_path);
    if (auto problem = url_problem(url, schemes, scheme_names)) {
      fail(node_table.get(key)->source(), join(node_path, key), *problem);
    }
    return url;
  }

  void read_el_tier(const toml::table& el, std::string_view key, Tier tier, std::vector<ElNode>& out,
                    std::map<std::string, std::string>& seen) const {
    const std::string path = join("el", key);
    const toml::array* nodes = optional_table_array(el, key, path);
    if (nodes == nullptr) return;
    for (std::size_t i = 0; i < nodes->size(); ++i) {
      const toml::table& t = *(*nodes)[i].as_table();
      const std::string node_path = indexed(path, i);
      reject_unknown_keys(t, node_path, {"name", "http_url", "ws_url"});
      ElNode node;
      node.name = read_name(t, node_path, seen);
      node.http_url = read_url(t, "http_url", node_path,
                               {boost::urls::scheme::http, boost::urls::scheme::https}, "http or https");
      node.ws_url =
          read_url(t, "ws_url", node_path, {boost::urls::scheme::ws, boost::urls::scheme::wss}, "ws or wss");
      node.tier = tier;
      out.push_back(std::move(node));
    }
  }

  void read_el(const toml::table& root, std::vector<ElNode>& out) const {
    static constexpr std::string_view kNeedPrimary = "at least one primary EL node is required";
    const toml::table* el = optional_table(root, "el", "");
    if (el == nullptr) fail("el.primary", kNeedPrimary);
    reject_unknown_keys(*el, "el", {"primary", "backup"});
    // Names must be unique across both tiers: they label metrics and /status entries.
    std::map<std::string, std::string> seen;
    read_el_tier(*el, "primary", Tier::primary, out, seen);
    if (out.empty()) fail(el->source(), "el.primary", kNeedPrimary);
    read_el_tier(*el, "backup", Tier::backup, out, seen);
  }

  void read_cl(const toml::table& root, std::vector<ClNode>& out) const {
    const toml::array* nodes = optional_table_array(root, "cl", "cl");
    if (nodes == nullptr) return;
    std::map<std::string, std::string> seen;
    for (std::size_t i = 0; i < nodes->size(); ++i) {
      const toml::table& t = *(*nodes)[i].as_table();
      const std::string node_path = indexed("cl", i);
      reject_unknown_keys(t, node_path, {"name", "url"});
      ClNode node;
      node.name = read_name(t, node_path, seen);
      node.url = read_url(t, "url", node_path, {boost::urls::scheme::http, boost::urls::scheme::https},
                          "http or https");
      out.push_back(std::move(node));
    }
  }

  std::string source_;
};

// toml++ 3.3.0 (Debian 12's) reaches __builtin_unreachable, that is crashes, when it asks whether
// one of these characters is whitespace (toml++ issues 190 and 295, fixed in later releases). It
// asks outside strings and comments, where no such character is valid TOML anyway, and in a
// multi-line basic string right after a backslash. A file with one there is refused with its
// place instead; comments and strings may hold them.
constexpr std::pair<char32_t, char32_t> kCrashingRanges[] = {
    {0x00A1, 0x0499}, {0x2C5E, 0x2FFF}, {0x3001, 0x3057}, {0xFB26, 0xFEFE}};

struct Place {
  std::size_t line = 1;
  std::size_t column = 1;
};

class CrashScan {
 public:
  explicit CrashScan(std::string_view text) : text_(text) {}

  // The first character toml++ would crash on, with its place.
  std::optional<std::pair<char32_t, Place>> run() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') step();
      } else if (c == '"' || c == '\'') {
        if (auto found = string(c)) return found;
      } else if (c == '\n' || c == ' ' || c == '\t' || c == '\r' || c == ',' || c == ']' || c == '}' || c == '{') {
        if (c == '\n') line_has_equals_ = false;
        if (c == ']' && array_depth_ > 0) --array_depth_;
        step();
      } else if (c == '[' || c == '=') {
        if (c == '=') line_has_equals_ = true;
        if (c == '[' && (line_has_equals_ || array_depth_ > 0)) ++array_depth_;  // not a table header
        step();
      } else if (auto found = bare()) {
        return found;
      }
    }
    return std::nullopt;
  }

 private:
  // A bare key or value. The parser reads a value on to the next whitespace, ']', '}', ',' or '#',
  // quotes and '=' included ("0Xhe79\"\"z\"w..."), asking of each character whether it is
  // whitespace: the question it crashes on (found by the fuzzer). A key ends at '=' as well.
  std::optional<std::pair<char32_t, Place>> bare() {
    const bool value = line_has_equals_ || array_depth_ > 0;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == ']' || c == '}' || c == '#') break;
      if (c == '=' && !value) break;
      if (auto found = checked()) return found;
    }
    return std::nullopt;
  }

  // The character at the current place when it is a crashing one.
  std::optional<std::pair<char32_t, Place>> crashing_here() const {
    auto [code, length] = decode();
    (void)length;
    for (auto [low, high] : kCrashingRanges) {
      if (code >= low && code <= high) return std::pair{code, place_};
    }
    return std::nullopt;
  }

  // Whether a quote here opens a string for the parser too. A quote right after a bare token
  // ("0Xhe79\"...") does not: the parser reads such a value on to the next whitespace, asking of
  // each character whether it is whitespace, the question it crashes on (found by the fuzzer).
  bool token_start() const {
    if (pos_ == 0) return true;
    char before = text_[pos_ - 1];
    return before == ' ' || before == '\t' || before == '\n' || before == '\r' || before == '=' || before == '[' ||
           before == ',' || before == '{' || before == '.';
  }

  // One character outside any string: a crashing one is reported, any other passed.
  std::optional<std::pair<char32_t, Place>> checked() {
    if (auto found = crashing_here()) return found;
    step();
    return std::nullopt;
  }

  std::optional<std::pair<char32_t, Place>> string(char quote) {
    bool multi_line = text_.substr(pos_, 3) == std::string_view(quote == '"' ? "\"\"\"" : "\'\'\'");
    pos_ += multi_line ? 3 : 1;
    place_.column += multi_line ? 3 : 1;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == quote && (!multi_line || text_.substr(pos_, 3) == std::string_view(quote == '"' ? "\"\"\"" : "\'\'\'"))) {
        // Up to two more quotes next to a closing delimiter belong to the string.
        std::size_t run = 0;
        while (pos_ < text_.size() && text_[pos_] == quote && run < (multi_line ? 5U : 1U)) {
          step();
          ++run;
        }
        return std::nullopt;
      }
      if (!multi_line && c == '\n') return std::nullopt;  // unterminated: the parser reports it
      step();
      if (c != '\\' || quote != '"' || pos_ >= text_.size()) continue;
      // An escape. In a multi-line string the parser asks whether the character after the
      // backslash is whitespace, and after a line-ending backslash skips whitespace and asks again
      // at the first character after it.
      std::size_t before = pos_;
      if (multi_line) {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                       text_[pos_] == '\r')) {
          step();
        }
        if (pos_ < text_.size()) {
          if (auto found = crashing_here()) return found;
        }
      }
      if (pos_ == before && pos_ < text_.size()) step();  // the escaped character itself
    }
    return std::nullopt;
  }

  // The character at the current place and its length in bytes (UTF-8 decoded; a malformed byte
  // counts as one character, for the parser to report).
  std::pair<char32_t, std::size_t> decode() const {
    auto lead = static_cast<unsigned char>(text_[pos_]);
    std::size_t length = lead < 0xC0 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (pos_ + length > text_.size()) length = 1;
    char32_t code = length == 1 ? lead : lead & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) code = (code << 6) | (static_cast<unsigned char>(text_[pos_ + k]) & 0x3F);
    return {code, length};
  }

  void step() {
    auto [code, length] = decode();
    pos_ += length;
    if (code == '\n') {
      ++place_.line;
      place_.column = 1;
    } else {
      ++place_.column;
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  Place place_;
  bool line_has_equals_ = false;  // past a key's '=': what follows is a value
  std::size_t array_depth_ = 0;   // inside a value's '[': values on every line
};

std::string code_point_name(char32_t code) {
  char name[16];
  std::snprintf(name, sizeof name, "U+%04X", static_cast<unsigned>(code));
  return name;
}

}  // namespace

Config parse(std::string_view toml_text, const std::string& source_name) {
  if (auto found = CrashScan(toml_text).run()) {
    auto [code, place] = *found;
    std::string name = code_point_name(code);
    throw ConfigError(source_name + ":" + std::to_string(place.line) + ":" + std::to_string(place.column) +
                      ": the character " + name +
                      " is not supported: this build's TOML library (toml++ 3.3) crashes on U+00A1-U+0499, "
                      "U+2C5E-U+2FFF, U+3001-U+3057 and U+FB26-U+FEFE outside strings and comments "
                      "and after a backslash in a multi-line string; write it as \\u" +
                      name.substr(2) + " in a string");
  }
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& error) {
    const auto& where = error.source().begin;
    throw ConfigError(source_name + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
                      ": " + std::string(error.description()));
  }
  return Reader(source_name).read(root);
}

namespace {

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xF];
  }
  return hex;
}

}  // namespace

Config load_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) {
    const int error = errno;
    throw ConfigError(path + ": cannot open config file: " + std::strerror(error));
  }
  std::string text;
  char buffer[64 * 1024];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, got);
  // fopen succeeds on a directory on Linux; the failure only shows up when reading.
  if (std::ferror(file.get())) {
    const int error = errno;
    throw ConfigError(path + ": cannot read config file: " + std::strerror(error));
  }
  Config config = parse(text, path);
  config.sha256 = sha256_hex(text);
  return config;
}

bool Cidr::contains(const std::array<std::uint8_t, 16>& address) const {
  unsigned whole = prefix_bits / 8, rest = prefix_bits % 8;
  if (!std::equal(bytes.begin(), bytes.begin() + whole, address.begin())) return false;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (bytes[whole] & mask) == (address[whole] & mask);
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  std::string host(text.substr(0, slash));
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  Cidr cidr;
  unsigned width = address.is_v4() ? 32 : 128;
  unsigned prefix = width;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || !all_digits(digits)) return std::nullopt;
    prefix = static_cast<unsigned>(std::stoul(std::string(digits)));
    if (prefix > width) return std::nullopt;
  }
  if (address.is_v4()) {
    auto mapped = boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, address.to_v4());
    cidr.bytes = mapped.to_bytes();
    cidr.prefix_bits = prefix + 96;
  } else {
    cidr.bytes = address.to_v6().to_bytes();
    cidr.prefix_bits = prefix;
  }
  return cidr;
}

const char* to_string(Tier tier) {
  switch (tier) {
    case Tier::primary: return "primary";
    case Tier::backup: return "backup";
  }
  return "unknown";
}

}  // namespace vixy::config
