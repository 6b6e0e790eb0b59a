#include "config/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace vixy::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Vixy's own config.example.toml, byte for byte: it must keep working unchanged.
constexpr std::string_view kVixyExample = R"([global]
max_el_lag_blocks = 5
max_cl_lag_slots = 3
health_check_interval_ms = 1000

[el]
[[el.primary]]
name = "geth-primary"
http_url = "http://localhost:8545"
ws_url = "ws://localhost:8546"

[[el.backup]]
name = "geth-backup"
http_url = "http://localhost:18545"
ws_url = "ws://localhost:18546"

[[cl]]
name = "lighthouse"
url = "http://localhost:5052"
)";

// The smallest valid file, used as a base that error cases extend.
constexpr std::string_view kOnePrimary = R"([el]
[[el.primary]]
name = "p"
http_url = "http://127.0.0.1:8545"
ws_url = "ws://127.0.0.1:8546"
)";

// The message of the ConfigError that parsing `text` as "cfg.toml" throws (a test failure if none).
std::string error_of(std::string_view text) {
  try {
    parse(text, "cfg.toml");
  } catch (const ConfigError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no ConfigError for:\n" << text;
  return "";
}

TEST(Config, VixyExampleParsesWithItsValues) {
  const Config config = parse(kVixyExample, "vixy.toml");
  EXPECT_EQ(config.source_path, "vixy.toml");
  EXPECT_EQ(config.global.max_el_lag_blocks, 5u);
  EXPECT_EQ(config.global.max_cl_lag_slots, 3u);
  EXPECT_EQ(config.global.health_check_interval_ms, 1000u);

  ASSERT_EQ(config.el.size(), 2u);
  EXPECT_EQ(config.el[0].name, "geth-primary");
  EXPECT_EQ(config.el[0].http_url, "http://localhost:8545");
  EXPECT_EQ(config.el[0].ws_url, "ws://localhost:8546");
  EXPECT_EQ(config.el[0].tier, Tier::primary);
  EXPECT_EQ(config.el[1].name, "geth-backup");
  EXPECT_EQ(config.el[1].http_url, "http://localhost:18545");
  EXPECT_EQ(config.el[1].ws_url, "ws://localhost:18546");
  EXPECT_EQ(config.el[1].tier, Tier::backup);

  ASSERT_EQ(config.cl.size(), 1u);
  EXPECT_EQ(config.cl[0].name, "lighthouse");
  EXPECT_EQ(config.cl[0].url, "http://localhost:5052");
}

// Vixy's Kurtosis config (kurtosis/vixy-kurtosis.toml.template in its repository) with its node
// placeholders filled in the way its setup script does: [server] host and port, [metrics] host.
constexpr std::string_view kVixyKurtosis = R"([global]
max_el_lag_blocks = 5
max_cl_lag_slots = 3
health_check_interval_ms = 5000
proxy_timeout_ms = 30000
max_retries = 3

[server]
host = "127.0.0.1"
port = 8080

[metrics]
enabled = true
host = "127.0.0.1"
port = 9090

[[el.primary]]
name = "el-1-geth-lighthouse"
http_url = "http://127.0.0.1:32769"
ws_url = "ws://127.0.0.1:32770"

[[cl]]
name = "cl-1-lighthouse-geth"
url = "http://127.0.0.1:33001"
)";

TEST(Config, VixysKurtosisConfigParsesWithItsAddresses) {
  const Config config = parse(kVixyKurtosis, "vixy-kurtosis.toml");
  EXPECT_EQ(config.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(config.metrics.host, "127.0.0.1");
  EXPECT_EQ(config.metrics.port, 9090);
  EXPECT_EQ(config.global.max_retries, 3u);
  ASSERT_EQ(config.el.size(), 1u);
  ASSERT_EQ(config.cl.size(), 1u);
}

TEST(Config, ServerHostAndPortMakeTheListenAddress) {
  auto listen_of = [](const std::string& server) {
    return parse("[server]\n" + server + std::string(kOnePrimary), "cfg.toml").server.listen;
  };
  EXPECT_EQ(listen_of("host = \"0.0.0.0\"\nport = 8545\n"), "0.0.0.0:8545");
  EXPECT_EQ(listen_of("host = \"::1\"\nport = 8545\n"), "[::1]:8545");
  EXPECT_EQ(listen_of("port = 9000\n"), "127.0.0.1:9000");
  EXPECT_EQ(listen_of("host = \"0.0.0.0\"\n"), "0.0.0.0:8080");
  EXPECT_EQ(listen_of(""), std::nullopt);
}

TEST(Config, ServerHostOrPortBesideListenIsAnError) {
  EXPECT_EQ(error_of("[server]\nlisten = \"127.0.0.1:1\"\nport = 2\n" + std::string(kOnePrimary)),
            "cfg.toml:3: server.port: give either listen or host and port, not both");
  EXPECT_EQ(error_of("[server]\nhost = \"localhost\"\n" + std::string(kOnePrimary)),
            "cfg.toml:2: server.host: must be an IP address (e.g. \"127.0.0.1\", \"0.0.0.0\" or \"::\"), got \"localhost\"");
  EXPECT_THAT(error_of("[server]\nport = 70000\n" + std::string(kOnePrimary)),
              StartsWith("cfg.toml:2: server.port: must be at most 65535"));
  EXPECT_EQ(error_of("[metrics]\nhost = \"10.0.0\"\nport = 9090\n" + std::string(kOnePrimary)),
            "cfg.toml:2: metrics.host: must be an IP address (e.g. \"127.0.0.1\", \"0.0.0.0\" or \"::\"), got \"10.0.0\"");
}

TEST(Config, DefaultsApplyWhenKeysAreAbsent) {
  const Config config = parse(kOnePrimary, "cfg.toml");
  EXPECT_EQ(config.global.max_el_lag_blocks, 5u);
  EXPECT_EQ(config.global.max_cl_lag_slots, 3u);
  EXPECT_EQ(config.global.health_check_interval_ms, 1000u);
  EXPECT_EQ(config.global.health_check_timeout_ms, 2000u);
  EXPECT_EQ(config.global.proxy_timeout_ms, 30000u);
  EXPECT_EQ(config.global.max_retries, 2u);
  EXPECT_EQ(config.global.health_check_max_failures, 3u);
  EXPECT_EQ(config.global.max_body_size, 10u * 1024 * 1024);
  EXPECT_EQ(config.global.max_json_depth, 128u);
  EXPECT_EQ(config.global.max_batch_size, 1000u);
  EXPECT_TRUE(config.metrics.enabled);
  EXPECT_FALSE(config.metrics.port.has_value());
  EXPECT_FALSE(config.server.listen.has_value());
  EXPECT_EQ(config.server.shutdown_timeout_ms, 10000u);
  EXPECT_EQ(config.server.client_write_timeout_ms, 10000u);
  EXPECT_EQ(config.server.max_connections, 0u);
  EXPECT_EQ(config.server.max_connections_per_ip, 0u);
  EXPECT_EQ(config.server.max_buffered_bytes, 256u * 1024 * 1024);
  EXPECT_EQ(config.server.threads, 0u);
  EXPECT_FALSE(config.tls.ca_file.has_value());
  EXPECT_EQ(config.websocket.max_pending_requests, 1024u);
  EXPECT_EQ(config.websocket.max_subscriptions, 1024u);
  EXPECT_EQ(config.websocket.max_message_size, 4u * 1024 * 1024);
  EXPECT_EQ(config.websocket.max_upstream_message_size, 256u * 1024 * 1024);
  EXPECT_EQ(config.websocket.ping_interval_ms, 5000u);
  EXPECT_EQ(config.websocket.pong_timeout_ms, 5000u);
  EXPECT_EQ(config.websocket.reconnect_backoff_ms, 100u);
  EXPECT_EQ(config.websocket.reconnect_backoff_max_ms, 5000u);
  EXPECT_EQ(config.websocket.backfill_blocks, 128u);
  EXPECT_EQ(config.websocket.upstream_connections, 4u);
  EXPECT_EQ(config.websocket.max_pending_bytes, 16u * 1024 * 1024);
  EXPECT_EQ(config.websocket.max_client_backlog_bytes, 16u * 1024 * 1024);
  EXPECT_TRUE(config.cl.empty());
  ASSERT_EQ(config.el.size(), 1u);
  EXPECT_EQ(config.el[0].tier, Tier::primary);
}

TEST(Config, EveryKeyIsRead) {
  const Config config = parse(R"([global]
max_el_lag_blocks = 11
max_cl_lag_slots = 12
health_check_interval_ms = 13
health_check_timeout_ms = 14
proxy_timeout_ms = 15
connect_timeout_ms = 16
max_retries = 0
health_check_max_failures = 17
max_body_size = 18
max_json_depth = 31
max_batch_size = 32

[metrics]
enabled = false
port = 9090

[server]
listen = "[::1]:8080"
shutdown_timeout_ms = 19
client_write_timeout_ms = 33
max_connections = 34
max_connections_per_ip = 35
max_buffered_bytes = 3600000
threads = 3

[tls]
ca_file = "/etc/vixy/ca.pem"

[websocket]
max_pending_requests = 21
max_subscriptions = 22
max_message_size = 2300
max_upstream_message_size = 2400
ping_interval_ms = 25
pong_timeout_ms = 26
reconnect_backoff_ms = 27
reconnect_backoff_max_ms = 28
backfill_blocks = 29
max_pending_bytes = 3700
max_client_backlog_bytes = 3800
upstream_connections = 39

[el]
[[el.primary]]
name = "p"
http_url = "https://rpc.example.com/v2/KEY"
ws_url = "wss://rpc.example.com/v2/KEY"

[[cl]]
name = "c1"
url = "https://beacon.example.com"

[[cl]]
name = "c2"
url = "http://[::1]:5052"
)",
                              "cfg.toml");
  EXPECT_EQ(config.global.max_el_lag_blocks, 11u);
  EXPECT_EQ(config.global.max_cl_lag_slots, 12u);
  EXPECT_EQ(config.global.health_check_interval_ms, 13u);
  EXPECT_EQ(config.global.health_check_timeout_ms, 14u);
  EXPECT_EQ(config.global.proxy_timeout_ms, 15u);
  EXPECT_EQ(config.global.connect_timeout_ms, 16u);
  EXPECT_EQ(config.global.max_retries, 0u);
  EXPECT_EQ(config.global.health_check_max_failures, 17u);
  EXPECT_EQ(config.global.max_body_size, 18u);
  EXPECT_EQ(config.global.max_json_depth, 31u);
  EXPECT_EQ(config.global.max_batch_size, 32u);
  EXPECT_FALSE(config.metrics.enabled);
  EXPECT_EQ(config.metrics.port, std::optional<std::uint16_t>(9090));
  EXPECT_EQ(config.server.listen, std::optional<std::string>("[::1]:8080"));
  EXPECT_EQ(config.server.shutdown_timeout_ms, 19u);
  EXPECT_EQ(config.server.client_write_timeout_ms, 33u);
  EXPECT_EQ(config.server.max_connections, 34u);
  EXPECT_EQ(config.server.max_connections_per_ip, 35u);
  EXPECT_EQ(config.server.max_buffered_bytes, 3600000u);
  EXPECT_EQ(config.server.threads, 3u);
  EXPECT_EQ(config.tls.ca_file, std::optional<std::string>("/etc/vixy/ca.pem"));
  EXPECT_EQ(config.websocket.max_pending_requests, 21u);
  EXPECT_EQ(config.websocket.max_subscriptions, 22u);
  EXPECT_EQ(config.websocket.max_message_size, 2300u);
  EXPECT_EQ(config.websocket.max_upstream_message_size, 2400u);
  EXPECT_EQ(config.websocket.ping_interval_ms, 25u);
  EXPECT_EQ(config.websocket.pong_timeout_ms, 26u);
  EXPECT_EQ(config.websocket.reconnect_backoff_ms, 27u);
  EXPECT_EQ(config.websocket.reconnect_backoff_max_ms, 28u);
  EXPECT_EQ(config.websocket.backfill_blocks, 29u);
  EXPECT_EQ(config.websocket.max_pending_bytes, 3700u);
  EXPECT_EQ(config.websocket.max_client_backlog_bytes, 3800u);
  EXPECT_EQ(config.websocket.upstream_connections, 39u);
  ASSERT_EQ(config.cl.size(), 2u);
  EXPECT_EQ(config.cl[0].name, "c1");
  EXPECT_EQ(config.cl[1].name, "c2");
  EXPECT_EQ(config.cl[1].url, "http://[::1]:5052");
}

TEST(Config, HealthCheckTimeoutMayExceedTheInterval) {
  const Config config = parse(std::string("[global]\nhealth_check_interval_ms = 500\n"
                                          "health_check_timeout_ms = 5000\n") +
                                  std::string(kOnePrimary),
                              "cfg.toml");
  EXPECT_EQ(config.global.health_check_interval_ms, 500u);
  EXPECT_EQ(config.global.health_check_timeout_ms, 5000u);
}

TEST(Config, PrimariesComeFirstThenBackupsEachInFileOrder) {
  const Config config = parse(R"([[el.backup]]
name = "b1"
http_url = "http://b1"
ws_url = "ws://b1"

[[el.primary]]
name = "p1"
http_url = "http://p1"
ws_url = "ws://p1"

[[el.backup]]
name = "b2"
http_url = "http://b2"
ws_url = "ws://b2"

[[el.primary]]
name = "p2"
http_url = "http://p2"
ws_url = "ws://p2"
)",
                              "cfg.toml");
  ASSERT_EQ(config.el.size(), 4u);
  EXPECT_EQ(config.el[0].name, "p1");
  EXPECT_EQ(config.el[1].name, "p2");
  EXPECT_EQ(config.el[2].name, "b1");
  EXPECT_EQ(config.el[3].name, "b2");
  EXPECT_EQ(config.el[0].tier, Tier::primary);
  EXPECT_EQ(config.el[1].tier, Tier::primary);
  EXPECT_EQ(config.el[2].tier, Tier::backup);
  EXPECT_EQ(config.el[3].tier, Tier::backup);
}

TEST(Config, InlineTablesAreTheSameDocument) {
  const Config config =
      parse(R"(el = { primary = [ { name = "p", http_url = "http://a", ws_url = "ws://a" } ] }
cl = [ { name = "c", url = "https://c" } ]
)",
            "cfg.toml");
  ASSERT_EQ(config.el.size(), 1u);
  EXPECT_EQ(config.el[0].ws_url, "ws://a");
  ASSERT_EQ(config.cl.size(), 1u);
  EXPECT_EQ(config.cl[0].url, "https://c");
}

TEST(Config, SameNameMayBeUsedByAnElAndAClNode) {
  const Config config =
      parse(std::string(kOnePrimary) + "[[cl]]\nname = \"p\"\nurl = \"http://127.0.0.1:5052\"\n", "cfg.toml");
  ASSERT_EQ(config.cl.size(), 1u);
  EXPECT_EQ(config.cl[0].name, "p");
}

TEST(Config, MethodListsKeepTheirEntriesInFileOrder) {
  const Config config =
      parse(std::string(kOnePrimary) + ("[methods]\nallow = [\"eth_*\", \"net_version\", \"*\"]\ndeny = [\"eth_sendRawTransaction\"]\n"),
            "cfg.toml");
  EXPECT_EQ(config.methods.allow, (std::vector<std::string>{"eth_*", "net_version", "*"}));
  EXPECT_EQ(config.methods.deny, (std::vector<std::string>{"eth_sendRawTransaction"}));
  const Config none = parse(kOnePrimary, "cfg.toml");
  EXPECT_TRUE(none.methods.allow.empty());
  EXPECT_TRUE(none.methods.deny.empty());
}

TEST(Config, LimitsBurstDefaultsToTheRateAndTrustedProxiesAreBlocks) {
  const Config config = parse(std::string(kOnePrimary) +
                                  "[limits]\nrequests_per_second = 20\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n",
                              "cfg.toml");
  EXPECT_EQ(config.limits.requests_per_second, 20u);
  EXPECT_EQ(config.limits.burst, 20u);
  ASSERT_EQ(config.limits.trusted_proxies.size(), 2u);
  auto ten = parse_cidr("10.0.0.0/8");
  ASSERT_TRUE(ten);
  auto v4 = [](std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return std::array<std::uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
  };
  EXPECT_TRUE(config.limits.trusted_proxies[0].contains(v4(10, 200, 3, 4)));
  EXPECT_FALSE(config.limits.trusted_proxies[0].contains(v4(11, 0, 0, 1)));
  std::array<std::uint8_t, 16> loopback6{};
  loopback6[15] = 1;
  EXPECT_TRUE(config.limits.trusted_proxies[1].contains(loopback6));
  EXPECT_FALSE(config.limits.trusted_proxies[1].contains(v4(0, 0, 0, 1)));
  auto odd = parse_cidr("192.168.0.0/23");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(v4(192, 168, 1, 255)));
  EXPECT_FALSE(odd->contains(v4(192, 168, 2, 0)));
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/33", "::/129", "host", "10.0.0.0/8/8"}) {
    EXPECT_FALSE(parse_cidr(bad)) << bad;
  }
  EXPECT_EQ(parse(kOnePrimary, "cfg.toml").limits.requests_per_second, 0u) << "no limit unless configured";
}

TEST(Config, RoutingStrategyIsPriorityUnlessSet) {
  EXPECT_EQ(parse(kOnePrimary, "cfg.toml").routing.strategy, "priority");
  EXPECT_EQ(parse(std::string(kOnePrimary) + "[routing]\nstrategy = \"least_latency\"\n", "cfg.toml").routing.strategy,
            "least_latency");
}

TEST(Config, TierNames) {
  EXPECT_STREQ(to_string(Tier::primary), "primary");
  EXPECT_STREQ(to_string(Tier::backup), "backup");
}

TEST(Config, AcceptedListenAddresses) {
  for (const char* listen :
       {"127.0.0.1:8080", "0.0.0.0:0", "localhost:65535", "[::1]:8080", "[::]:80", "my-host.internal:9000"}) {
    const Config config =
        parse("[server]\nlisten = \"" + std::string(listen) + "\"\n" + std::string(kOnePrimary), "cfg.toml");
    EXPECT_EQ(config.server.listen, std::optional<std::string>(listen));
  }
}

// One rejected file and the pieces its message must hold. `location` is "cfg.toml:LINE: " (or
// "cfg.toml: " when no line is known); the message must start with location + key + ": ".
struct ErrorCase {
  std::string name;
  std::string toml;
  std::string location;
  std::string key;
  std::string reason;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class ConfigErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrors, NameFileLineKeyAndReason) {
  const ErrorCase& c = GetParam();
  const std::string message = error_of(c.toml);
  EXPECT_THAT(message, StartsWith(c.location + c.key + ": "));
  EXPECT_THAT(message, HasSubstr(c.reason));
}

std::string with_primary(std::string_view before) { return std::string(before) + std::string(kOnePrimary); }
std::string after_primary(std::string_view after) { return std::string(kOnePrimary) + std::string(after); }

// An [[el.primary]] node (starting on line 2 after "[el]") with the given three lines.
std::string el_node(std::string_view lines) { return "[el]\n[[el.primary]]\n" + std::string(lines); }

const std::string kNotAnHttpUrl =
    "is not a valid URL (expected SCHEME://HOST[:PORT][/PATH] with scheme http or https)";

const ErrorCase kErrorCases[] = {
    // Unknown keys, at every level.
    {"UnknownTopLevelSection", with_primary("[servers]\nlisten = \"127.0.0.1:1\"\n"),
     "cfg.toml:1: ", "servers", "unknown key"},
    {"UnknownGlobalKey", with_primary("[global]\nmax_el_lag = 5\n"), "cfg.toml:2: ", "global.max_el_lag",
     "unknown key"},
    {"UnknownMetricsKey", with_primary("[metrics]\naddress = \"0.0.0.0\"\n"), "cfg.toml:2: ", "metrics.address",
     "unknown key"},
    {"UnknownServerKey", with_primary("[server]\nbind = 8080\n"), "cfg.toml:2: ", "server.bind",
     "unknown key"},
    {"UnknownTlsKey", with_primary("[tls]\ncert = \"x\"\n"), "cfg.toml:2: ", "tls.cert", "unknown key"},
    {"UnknownElKey", "[el]\nbackups = []\n" + std::string(kOnePrimary).substr(5),
     "cfg.toml:2: ", "el.backups", "unknown key"},
    {"UnknownElNodeKey",
     after_primary(
         "[[el.primary]]\nname = \"q\"\nhttp_url = \"http://q\"\nws_url = \"ws://q\"\nweight = 2\n"),
     "cfg.toml:10: ", "el.primary[1].weight", "unknown key"},
    {"UnknownClNodeKey", after_primary("[[cl]]\nname = \"c\"\nurl = \"http://c\"\nhttp_url = \"http://c\"\n"),
     "cfg.toml:9: ", "cl[0].http_url", "unknown key"},
    // Wrong types.
    {"StringForInteger", with_primary("[global]\nmax_retries = \"3\"\n"),
     "cfg.toml:2: ", "global.max_retries", "expected a non-negative integer, got a string"},
    {"FloatForInteger", with_primary("[global]\nproxy_timeout_ms = 1.5\n"),
     "cfg.toml:2: ", "global.proxy_timeout_ms", "expected a non-negative integer, got a float"},
    {"NegativeUnsigned", with_primary("[global]\nmax_el_lag_blocks = -1\n"),
     "cfg.toml:2: ", "global.max_el_lag_blocks", "must not be negative, got -1"},
    {"StringForBool", with_primary("[metrics]\nenabled = \"yes\"\n"), "cfg.toml:2: ", "metrics.enabled",
     "expected a boolean"},
    {"IntegerForString", with_primary("[server]\nlisten = 8080\n"), "cfg.toml:2: ", "server.listen",
     "expected a string, got an integer"},
    {"GlobalNotATable", with_primary("global = 3\n"), "cfg.toml:1: ", "global", "expected a table"},
    {"ElNodesNotAnArrayOfTables", "[el.primary]\nname = \"p\"\n", "cfg.toml:1: ", "el.primary",
     "expected an array of tables ([[el.primary]])"},
    {"ClNotAnArrayOfTables", after_primary("[cl]\nname = \"c\"\n"), "cfg.toml:6: ", "cl",
     "expected an array of tables ([[cl]])"},
    {"ClArrayOfStrings", with_primary("cl = [\"http://c\"]\n"), "cfg.toml:1: ", "cl[0]",
     "expected a table, got a string"},
    // Out-of-range values.
    {"ZeroInterval", with_primary("[global]\nhealth_check_interval_ms = 0\n"),
     "cfg.toml:2: ", "global.health_check_interval_ms", "must be greater than 0, got 0"},
    {"ZeroHealthCheckTimeout", with_primary("[global]\nhealth_check_timeout_ms = 0\n"),
     "cfg.toml:2: ", "global.health_check_timeout_ms", "must be greater than 0, got 0"},
    {"ZeroProxyTimeout", with_primary("[global]\nproxy_timeout_ms = 0\n"),
     "cfg.toml:2: ", "global.proxy_timeout_ms", "must be greater than 0, got 0"},
    {"ZeroShutdownTimeout", with_primary("[server]\nshutdown_timeout_ms = 0\n"),
     "cfg.toml:2: ", "server.shutdown_timeout_ms", "must be greater than 0, got 0"},
    {"HugeTimeout", with_primary("[global]\nproxy_timeout_ms = 86400001\n"),
     "cfg.toml:2: ", "global.proxy_timeout_ms", "must be at most 86400000, got 86400001"},
    {"ZeroMaxFailures", with_primary("[global]\nhealth_check_max_failures = 0\n"),
     "cfg.toml:2: ", "global.health_check_max_failures", "must be greater than 0, got 0"},
    {"MaxRetriesBeyondUint32", with_primary("[global]\nmax_retries = 4294967296\n"),
     "cfg.toml:2: ", "global.max_retries", "must be at most 4294967295, got 4294967296"},
    {"ZeroMaxBodySize", with_primary("[global]\nmax_body_size = 0\n"), "cfg.toml:2: ", "global.max_body_size",
     "must be greater than 0, got 0"},
    {"ShallowJsonDepth", with_primary("[global]\nmax_json_depth = 2\n"), "cfg.toml:2: ", "global.max_json_depth",
     "must be at least 3, got 2"},
    {"ZeroBatchSize", with_primary("[global]\nmax_batch_size = 0\n"), "cfg.toml:2: ", "global.max_batch_size",
     "must be greater than 0, got 0"},
    {"ZeroClientWriteTimeout", with_primary("[server]\nclient_write_timeout_ms = 0\n"), "cfg.toml:2: ",
     "server.client_write_timeout_ms", "must be greater than 0, got 0"},
    {"TinyBufferedBytes", with_primary("[server]\nmax_buffered_bytes = 1000\n"), "cfg.toml:2: ",
     "server.max_buffered_bytes", "must be at least 1048576, got 1000"},
    {"TinyPendingBytes", with_primary("[websocket]\nmax_pending_bytes = 10\n"), "cfg.toml:2: ",
     "websocket.max_pending_bytes", "must be at least 1024, got 10"},
    {"ZeroMetricsPort", with_primary("[metrics]\nport = 0\n"), "cfg.toml:2: ", "metrics.port",
     "must be greater than 0, got 0"},
    {"MetricsPortTooLarge", with_primary("[metrics]\nport = 65536\n"), "cfg.toml:2: ", "metrics.port",
     "must be at most 65535, got 65536"},
    {"EmptyCaFile", with_primary("[tls]\nca_file = \"\"\n"), "cfg.toml:2: ", "tls.ca_file",
     "must not be empty"},
    // Missing EL primaries.
    {"NoElSection", "[global]\nmax_retries = 1\n", "cfg.toml: ", "el.primary",
     "at least one primary EL node is required"},
    {"OnlyBackups", "[el]\n[[el.backup]]\nname = \"b\"\nhttp_url = \"http://b\"\nws_url = \"ws://b\"\n",
     "cfg.toml:1: ", "el.primary", "at least one primary EL node is required"},
    {"EmptyPrimaryArray", "[el]\nprimary = []\n", "cfg.toml:1: ", "el.primary",
     "at least one primary EL node is required"},
    // Node keys.
    {"MissingName", el_node("http_url = \"http://a\"\nws_url = \"ws://a\"\n"),
     "cfg.toml:2: ", "el.primary[0].name", "missing required key"},
    {"MissingHttpUrl", el_node("name = \"a\"\nws_url = \"ws://a\"\n"),
     "cfg.toml:2: ", "el.primary[0].http_url", "missing required key"},
    {"MissingWsUrl", el_node("name = \"a\"\nhttp_url = \"http://a\"\n"),
     "cfg.toml:2: ", "el.primary[0].ws_url", "missing required key"},
    {"MissingClUrl", after_primary("[[cl]]\nname = \"c\"\n"), "cfg.toml:6: ", "cl[0].url",
     "missing required key"},
    {"MissingClName", after_primary("\n[[cl]]\nurl = \"http://c\"\n"), "cfg.toml:7: ", "cl[0].name",
     "missing required key"},
    {"EmptyName", el_node("name = \"\"\nhttp_url = \"http://a\"\nws_url = \"ws://a\"\n"),
     "cfg.toml:3: ", "el.primary[0].name", "must not be empty"},
    {"DuplicateElNameAcrossTiers",
     after_primary("[[el.backup]]\nname = \"p\"\nhttp_url = \"http://b\"\nws_url = \"ws://b\"\n"),
     "cfg.toml:7: ", "el.backup[0].name", "duplicate node name \"p\" (already used by el.primary[0].name)"},
    {"DuplicateClName",
     after_primary("[[cl]]\nname = \"c\"\nurl = \"http://c\"\n[[cl]]\nname = \"c\"\n"
                   "url = \"http://d\"\n"),
     "cfg.toml:10: ", "cl[1].name", "duplicate node name \"c\" (already used by cl[0].name)"},
    // URLs.
    {"HttpUrlWithWsScheme", el_node("name = \"a\"\nhttp_url = \"ws://a\"\nws_url = \"ws://a\"\n"),
     "cfg.toml:4: ", "el.primary[0].http_url", "scheme must be http or https, got \"ws\""},
    {"WsUrlWithHttpsScheme", el_node("name = \"a\"\nhttp_url = \"https://a\"\nws_url = \"https://a\"\n"),
     "cfg.toml:5: ", "el.primary[0].ws_url", "scheme must be ws or wss, got \"https\""},
    {"ClUrlWithFtpScheme", after_primary("[[cl]]\nname = \"c\"\nurl = \"ftp://c\"\n"),
     "cfg.toml:8: ", "cl[0].url", "scheme must be http or https, got \"ftp\""},
    {"UrlWithoutScheme", el_node("name = \"a\"\nhttp_url = \"localhost/rpc\"\nws_url = \"ws://a\"\n"),
     "cfg.toml:4: ", "el.primary[0].http_url", kNotAnHttpUrl},
    {"UrlWithSpace", el_node("name = \"a\"\nhttp_url = \"http://a b\"\nws_url = \"ws://a\"\n"),
     "cfg.toml:4: ", "el.primary[0].http_url", kNotAnHttpUrl},
    {"UrlWithoutHost", el_node("name = \"a\"\nhttp_url = \"http:///rpc\"\nws_url = \"ws://a\"\n"),
     "cfg.toml:4: ", "el.primary[0].http_url", "URL must include a host"},
    {"UrlWithoutAuthority", el_node("name = \"a\"\nhttp_url = \"http:rpc\"\nws_url = \"ws://a\"\n"),
     "cfg.toml:4: ", "el.primary[0].http_url", "URL must include a host"},
    {"UrlPortTooLarge", el_node("name = \"a\"\nhttp_url = \"http://a:70000\"\nws_url = \"ws://a\"\n"),
     "cfg.toml:4: ", "el.primary[0].http_url", "port must be between 1 and 65535"},
    {"EmptyUrl", el_node("name = \"a\"\nhttp_url = \"http://a\"\nws_url = \"\"\n"),
     "cfg.toml:5: ", "el.primary[0].ws_url", "must not be empty"},
    {"BackupUrlIndexed",
     after_primary("[[el.backup]]\nname = \"b0\"\nhttp_url = \"http://b\"\nws_url = \"ws://b\"\n"
                   "[[el.backup]]\nname = \"b1\"\nhttp_url = \"gopher://b\"\nws_url = \"ws://b\"\n"),
     "cfg.toml:12: ", "el.backup[1].http_url", "scheme must be http or https, got \"gopher\""},
    // [server] listen shape.
    {"ListenWithoutPort", with_primary("[server]\nlisten = \"127.0.0.1\"\n"), "cfg.toml:2: ", "server.listen",
     "must look like HOST:PORT"},
    {"ListenPortOnly", with_primary("[server]\nlisten = \"8080\"\n"), "cfg.toml:2: ", "server.listen",
     "must look like HOST:PORT"},
    {"ListenEmptyPort", with_primary("[server]\nlisten = \"127.0.0.1:\"\n"), "cfg.toml:2: ", "server.listen",
     "the port must be a number from 0 to 65535"},
    {"ListenNamedPort", with_primary("[server]\nlisten = \"127.0.0.1:http\"\n"),
     "cfg.toml:2: ", "server.listen", "the port must be a number from 0 to 65535"},
    {"ListenPortTooLarge", with_primary("[server]\nlisten = \"127.0.0.1:65536\"\n"),
     "cfg.toml:2: ", "server.listen", "the port must be a number from 0 to 65535"},
    {"ListenMissingHost", with_primary("[server]\nlisten = \":8080\"\n"), "cfg.toml:2: ", "server.listen",
     "the host is missing"},
    {"ListenBareIpv6", with_primary("[server]\nlisten = \"::1:8080\"\n"), "cfg.toml:2: ", "server.listen",
     "an IPv6 host must be written in brackets"},
    {"ListenBracketsWithoutColon", with_primary("[server]\nlisten = \"[::1]8080\"\n"),
     "cfg.toml:2: ", "server.listen", "must look like HOST:PORT"},
    {"ListenBadIpv6", with_primary("[server]\nlisten = \"[not-ip]:8080\"\n"), "cfg.toml:2: ", "server.listen",
     "not a valid IPv6 address"},
    {"ListenBadHostCharacter", with_primary("[server]\nlisten = \"my host:8080\"\n"),
     "cfg.toml:2: ", "server.listen", "the host contains an invalid character"},
    {"UnknownWebsocketKey", with_primary("[websocket]\nmax_queue = 5\n"), "cfg.toml:2: ", "websocket.max_queue",
     "unknown key"},
    {"ZeroPendingRequests", with_primary("[websocket]\nmax_pending_requests = 0\n"), "cfg.toml:2: ",
     "websocket.max_pending_requests", "must be greater than 0"},
    {"TinyMessageSize", with_primary("[websocket]\nmax_message_size = 10\n"), "cfg.toml:2: ",
     "websocket.max_message_size", "1024"},
    {"BackoffMaxBelowBackoff", with_primary("[websocket]\nreconnect_backoff_ms = 500\nreconnect_backoff_max_ms = 100\n"),
     "cfg.toml:3: ", "websocket.reconnect_backoff_max_ms", "must not be smaller than websocket.reconnect_backoff_ms"},
    {"ZeroBackfill", with_primary("[websocket]\nbackfill_blocks = 0\n"), "cfg.toml:2: ", "websocket.backfill_blocks",
     "must be greater than 0"},
    {"HugeBackfill", with_primary("[websocket]\nbackfill_blocks = 100000\n"), "cfg.toml:2: ",
     "websocket.backfill_blocks", "8192"},
    {"NoUpstreamConnections", with_primary("[websocket]\nupstream_connections = 0\n"), "cfg.toml:2: ",
     "websocket.upstream_connections", "must be greater than 0"},
    {"TooManyUpstreamConnections", with_primary("[websocket]\nupstream_connections = 5000\n"), "cfg.toml:2: ",
     "websocket.upstream_connections", "1024"},
    {"TooManyThreads", with_primary("[server]\nthreads = 5000\n"), "cfg.toml:2: ", "server.threads", "1024"},
    {"UnknownStrategy", with_primary("[routing]\nstrategy = \"random\"\n"), "cfg.toml:2: ", "routing.strategy",
     "expected \"priority\", \"round_robin\" or \"least_latency\", got \"random\""},
    {"StrategyNotAString", with_primary("[routing]\nstrategy = 1\n"), "cfg.toml:2: ", "routing.strategy",
     "expected a string"},
    {"UnknownLimitsKey", with_primary("[limits]\nrate = 5\n"), "cfg.toml:2: ", "limits.rate", "unknown key"},
    {"NegativeRate", with_primary("[limits]\nrequests_per_second = -1\n"), "cfg.toml:2: ", "limits.requests_per_second",
     "must not be negative"},
    {"TrustedProxyNotAnAddress", with_primary("[limits]\ntrusted_proxies = [\"10.0.0.0/8\",\n  \"lb.internal\"]\n"),
     "cfg.toml:3: ", "limits.trusted_proxies[1]", "expected an address or CIDR block"},
    {"TrustedProxyPrefixTooLong", with_primary("[limits]\ntrusted_proxies = [\"10.0.0.0/33\"]\n"), "cfg.toml:2: ",
     "limits.trusted_proxies[0]", "expected an address or CIDR block"},
    {"TrustedProxiesNotAnArray", with_primary("[limits]\ntrusted_proxies = \"10.0.0.0/8\"\n"), "cfg.toml:2: ",
     "limits.trusted_proxies", "expected an array of addresses or CIDR blocks, got a string"},
    {"UnknownMethodsKey", with_primary("[methods]\nrefuse = [\"a\"]\n"), "cfg.toml:2: ", "methods.refuse",
     "unknown key"},
    {"MethodListNotAnArray", with_primary("[methods]\ndeny = \"debug_*\"\n"), "cfg.toml:2: ", "methods.deny",
     "expected an array of method names, got a string"},
    {"MethodNotAString", with_primary("[methods]\nallow = [\"eth_call\",\n  7]\n"), "cfg.toml:3: ",
     "methods.allow[1]", "expected a method name (a string), got an integer"},
    {"EmptyMethodName", with_primary("[methods]\ndeny = [\"\"]\n"), "cfg.toml:2: ", "methods.deny[0]",
     "is not a method name or prefix"},
    {"StarInsideAMethodName", with_primary("[methods]\ndeny = [\"debug_*_x\"]\n"), "cfg.toml:2: ",
     "methods.deny[0]", "\"debug_*_x\" is not a method name or prefix"},
    {"SpaceInAMethodName", with_primary("[methods]\nallow = [\"eth_call \"]\n"), "cfg.toml:2: ",
     "methods.allow[0]", "is not a method name or prefix"},
};

INSTANTIATE_TEST_SUITE_P(Config, ConfigErrors, ::testing::ValuesIn(kErrorCases),
                         [](const ::testing::TestParamInfo<ErrorCase>& param_info) {
                           return param_info.param.name;
                         });

TEST(Config, SyntaxErrorNamesLineAndColumn) {
  const std::string message = error_of("[global]\nmax_retries = = 3\n");
  // "cfg.toml:2:COLUMN: REASON": the column is toml++'s, so only its presence is pinned.
  EXPECT_THAT(message, ::testing::MatchesRegex("cfg\\.toml:2:[0-9]+: .+"));
}

// toml++ 3.3 crashes (reaches __builtin_unreachable) when it asks whether some characters are
// whitespace; the fuzzer found three files that killed vixy at start-up (tests/fuzz, config).
TEST(Config, CharactersTheTomlLibraryCrashesOnAreRefusedWithTheirPlace) {
  EXPECT_THAT(error_of("s = \"\"\"\\\n\u00a7\"\"\"\n"), StartsWith("cfg.toml:2:1: the character U+00A7 is not supported"));
  EXPECT_THAT(error_of("[[el.primar\u0386]]\nname = \"=\"ws://127.0.0.1:8546\"\n"),
              StartsWith("cfg.toml:1:12: the character U+0386 is not supported"));
  EXPECT_THAT(error_of("gv79=0Xhe79max_batch_ip-0\ufef75hp-79=\n"),
              StartsWith("cfg.toml:1:26: the character U+FEF7 is not supported"));
  EXPECT_THAT(error_of("gv79=0Xhe79\"\"z\"wstch_ip-0\ufef75hp-79=\n"),
              StartsWith("cfg.toml:1:26: the character U+FEF7 is not supported"));
  EXPECT_THAT(error_of("a = [\n0X=\"\u00e9\"]\n"), StartsWith("cfg.toml:2:5: the character U+00E9"));
  EXPECT_THAT(error_of("a = 1\n\u00e9 = 2\n"), HasSubstr("write it as \\u00E9 in a string"));
  EXPECT_THAT(error_of("a = \"\"\"x\\\u00e9\"\"\"\n"), StartsWith("cfg.toml:1:10: the character U+00E9"));
}

TEST(Config, CommentsAndStringsMayHoldAnyCharacter) {
  // Where the library never asks (checked with -fsanitize=unreachable on toml++ 3.3.0).
  const Config config = parse(std::string("# caf\u00e9, \u3042\n") + std::string(kOnePrimary) +
                                  "[[cl]]\nname = \"n\u00e9\" # \u00e9\nurl = \"http://c\"\n"
                                  "[[cl]]\nname = '''\u00e9\n\u00e9'''\nurl = \"http://d\"\n"
                                  "[[cl]]\nname = \"\"\"\\\n  x\u00e9\"\"\"\nurl = \"http://e\"\n",
                              "cfg.toml");
  ASSERT_EQ(config.cl.size(), 3u);
  EXPECT_EQ(config.cl[0].name, "n\u00e9");
  EXPECT_EQ(config.cl[2].name, "x\u00e9");
}

TEST(Config, UnknownKeyMessageListsTheAcceptedKeys) {
  EXPECT_THAT(error_of(with_primary("[metrics]\nenable = true\n")),
              HasSubstr("unknown key (expected one of: enabled, port, host)"));
}

TEST(Config, UrlErrorsNeverShowTheUrl) {
  const std::string secret = "SECRETKEY1234567890abcdef";
  for (const std::string& url : {"ftp://host/v2/" + secret, "https://user:" + secret + "@/v2",
                                 "https://host/v2/" + secret + " x", "https://host:99999/" + secret}) {
    const std::string message =
        error_of(el_node("name = \"a\"\nhttp_url = \"" + url + "\"\nws_url = \"ws://a\"\n"));
    EXPECT_THAT(message, StartsWith("cfg.toml:4: el.primary[0].http_url: "));
    EXPECT_THAT(message, Not(HasSubstr(secret))) << "for URL " << url;
  }
}

TEST(Config, LongBogusSchemeIsNotEchoed) {
  const std::string message =
      error_of(el_node("name = \"a\"\nhttp_url = \"abcdefghijklmnopqrstuvwxyz:x\"\nws_url = \"ws://a\"\n"));
  EXPECT_THAT(message, HasSubstr("scheme must be http or https, got an unsupported scheme"));
  EXPECT_THAT(message, Not(HasSubstr("abcdefghijklmnopqrstuvwxyz")));
}

// A directory that exists for one test and is removed with everything in it afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vixy-config-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string write(const std::string& name, std::string_view contents) const {
    const std::string file = (path_ / name).string();
    std::FILE* out = std::fopen(file.c_str(), "wb");
    if (out == nullptr) throw std::runtime_error("cannot create " + file);
    std::fwrite(contents.data(), 1, contents.size(), out);
    std::fclose(out);
    return file;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(ConfigFile, LoadsARealFile) {
  TempDir dir;
  const std::string file = dir.write("config.toml", kVixyExample);
  const Config config = load_file(file);
  EXPECT_EQ(config.source_path, file);
  ASSERT_EQ(config.el.size(), 2u);
  EXPECT_EQ(config.el[1].name, "geth-backup");
  ASSERT_EQ(config.cl.size(), 1u);
  EXPECT_EQ(config.cl[0].url, "http://localhost:5052");
}

TEST(ConfigFile, ErrorsNameTheFilePath) {
  TempDir dir;
  const std::string file = dir.write("bad.toml", with_primary("[global]\nmax_retries = -2\n"));
  try {
    load_file(file);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.what(), StartsWith(file + ":2: global.max_retries: must not be negative"));
  }
}

TEST(ConfigFile, MissingFileNamesThePathAndTheSystemError) {
  TempDir dir;
  const std::string file = (dir.path() / "absent.toml").string();
  try {
    load_file(file);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.what(), StartsWith(file + ": "));
    EXPECT_THAT(error.what(), HasSubstr("No such file or directory"));
  }
}

TEST(ConfigFile, DirectoryIsNotAConfigFile) {
  TempDir dir;
  try {
    load_file(dir.path().string());
    FAIL() << "no ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.what(), StartsWith(dir.path().string() + ": "));
    EXPECT_THAT(error.what(), HasSubstr("Is a directory"));
  }
}

// The shipped example documents every key at its default; if a default changes, so must the file.
TEST(ConfigFile, ShippedExampleParsesAndShowsTheDefaults) {
  const Config config = load_file(VIXY_SOURCE_DIR "/config.example.toml");
  EXPECT_EQ(config.global.max_el_lag_blocks, 5u);
  EXPECT_EQ(config.global.max_cl_lag_slots, 3u);
  EXPECT_EQ(config.global.health_check_interval_ms, 1000u);
  EXPECT_EQ(config.global.health_check_timeout_ms, 2000u);
  EXPECT_EQ(config.global.proxy_timeout_ms, 30000u);
  EXPECT_EQ(config.global.max_retries, 2u);
  EXPECT_EQ(config.global.health_check_max_failures, 3u);
  EXPECT_EQ(config.global.max_body_size, 10u * 1024 * 1024);
  EXPECT_TRUE(config.metrics.enabled);
  EXPECT_EQ(config.server.shutdown_timeout_ms, 10000u);
  EXPECT_EQ(config.global.max_json_depth, 128u);
  EXPECT_EQ(config.global.max_batch_size, 1000u);
  EXPECT_EQ(config.server.client_write_timeout_ms, 10000u);
  EXPECT_EQ(config.server.max_connections, 0u);
  EXPECT_EQ(config.server.max_connections_per_ip, 0u);
  EXPECT_EQ(config.server.max_buffered_bytes, 256u * 1024 * 1024);
  EXPECT_EQ(config.websocket.max_pending_requests, 1024u);
  EXPECT_EQ(config.websocket.max_pending_bytes, 16u * 1024 * 1024);
  EXPECT_EQ(config.websocket.max_client_backlog_bytes, 16u * 1024 * 1024);
  EXPECT_EQ(config.websocket.max_message_size, 4u * 1024 * 1024);
  EXPECT_EQ(config.websocket.ping_interval_ms, 5000u);
  EXPECT_EQ(config.websocket.reconnect_backoff_max_ms, 5000u);
  EXPECT_EQ(config.websocket.backfill_blocks, 128u);

  ASSERT_GE(config.el.size(), 2u);
  EXPECT_EQ(config.el.front().tier, Tier::primary);
  EXPECT_EQ(config.el.back().tier, Tier::backup);
  EXPECT_EQ(config.el.back().http_url, "https://eth-mainnet.example.com/v2/YOUR_API_KEY");
  EXPECT_FALSE(config.cl.empty());
}

}  // namespace
}  // namespace vixy::config
