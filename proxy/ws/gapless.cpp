// Subscription kinds, the shared text helpers, and the newPendingTransactions stream.
#include "ws/gapless.hpp"

#include <functional>
#include <unordered_set>

#include <boost/container/deque.hpp>

#include "jsonrpc/jsonrpc.hpp"
#include "ws/gapless_detail.hpp"

namespace vixy::ws::gapless {
namespace raw = jsonrpc::raw;

const char* kind_label(Kind kind) {
  switch (kind) {
    case Kind::new_heads: return "newHeads";
    case Kind::logs: return "logs";
    case Kind::pending_transactions: return "newPendingTransactions";
    case Kind::other: break;
  }
  return "other";
}

Subscribed classify(const nlohmann::json& params) {
  Subscribed out;
  if (!params.is_array() || params.empty() || !params[0].is_string()) return out;
  const auto& name = params[0].get_ref<const std::string&>();
  if (name == "newHeads") {
    out.kind = Kind::new_heads;
  } else if (name == "logs") {
    out.kind = Kind::logs;
    if (params.size() > 1 && params[1].is_object()) out.filter = params[1];
  } else if (name == "newPendingTransactions") {
    out.kind = Kind::pending_transactions;
  }
  return out;
}

namespace detail {

std::optional<Hash> parse_hash(std::string_view hex) {
  if (hex.size() != 66 || hex[0] != '0' || (hex[1] != 'x' && hex[1] != 'X')) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Hash out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    int high = digit(hex[2 + 2 * i]);
    int low = digit(hex[3 + 2 * i]);
    if (high < 0 || low < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return out;
}

std::string hash_hex(const Hash& hash) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "0x";
  for (std::uint8_t byte : hash) {
    out += digits[byte >> 4];
    out += digits[byte & 15];
  }
  return out;
}

std::optional<raw::Span> result_span(std::string_view notification) {
  auto params = raw::member(notification, "params");
  if (!params) return std::nullopt;
  auto result = raw::member(params->of(notification), "result");
  if (!result) return std::nullopt;
  return raw::Span{params->begin + result->begin, params->begin + result->end};
}

std::optional<std::string_view> string_member(std::string_view object, std::string_view key) {
  auto span = raw::member(object, key);
  if (!span) return std::nullopt;
  std::string_view value = span->of(object);
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return std::nullopt;
  value = value.substr(1, value.size() - 2);
  if (value.find('\\') != std::string_view::npos) return std::nullopt;  // hex never needs escapes
  return value;
}

std::optional<std::uint64_t> quantity_member(std::string_view object, std::string_view key) {
  auto value = string_member(object, key);
  return value ? jsonrpc::from_quantity(*value) : std::nullopt;
}

std::optional<Hash> hash_member(std::string_view object, std::string_view key) {
  auto value = string_member(object, key);
  return value ? parse_hash(*value) : std::nullopt;
}

std::optional<HeadFields> head_fields(std::string_view object) {
  auto number = quantity_member(object, "number");
  auto hash = hash_member(object, "hash");
  auto parent = hash_member(object, "parentHash");
  if (!number || !hash || !parent) return std::nullopt;
  return HeadFields{*number, *hash, *parent};
}

std::optional<LogFields> log_fields(std::string_view object) {
  auto block = hash_member(object, "blockHash");
  auto index = quantity_member(object, "logIndex");
  auto number = quantity_member(object, "blockNumber");
  if (!block || !index || !number) return std::nullopt;
  auto removed = raw::member(object, "removed");
  return LogFields{{*block, *index}, *number, removed && removed->of(object) == "true"};
}

std::string notification_text(std::string_view client_subscription_id, std::string_view result) {
  std::string out = R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":)";
  out += nlohmann::json(client_subscription_id).dump();
  out += R"(,"result":)";
  out += result;
  out += "}}";
  return out;
}

}  // namespace detail

Facts facts_of(Kind kind, std::string_view text) {
  Facts facts;
  auto span = detail::result_span(text);
  if (!span) return facts;
  facts.result = span->of(text);
  if (kind == Kind::new_heads) facts.head = detail::head_fields(*facts.result);
  if (kind == Kind::logs) facts.log = detail::log_fields(*facts.result);
  return facts;
}

namespace {

// newPendingTransactions: nothing can be fetched again, but the same transaction announced by
// both upstreams of a make-before-break switch (or twice by one node) reaches the client once.
class SeenStream final : public Stream {
 public:
  using Stream::notification;
  void notification(std::string&& text, const Facts& facts, Via via, Effects& out) override {
    if (!facts.result) {
      if (!via.retired) out.deliver.push_back(std::move(text));
      return;
    }
    std::size_t digest = std::hash<std::string_view>{}(*facts.result);
    if (!seen_.insert(digest).second) {
      ++out.duplicates;
      return;
    }
    order_.push_back(digest);
    if (order_.size() > kWindow) {
      seen_.erase(order_.front());
      order_.pop_front();
    }
    out.deliver.push_back(std::move(text));
  }
  void fetched(std::uint64_t, const nlohmann::json*, Effects&) override {}
  void established(bool, Effects&) override {}
  void abandoned(std::uint64_t, bool, Effects&) override {}
  Kind kind() const override { return Kind::pending_transactions; }

 private:
  static constexpr std::size_t kWindow = 1024;
  std::unordered_set<std::size_t> seen_;
  boost::container::deque<std::size_t> order_;  // allocates nothing while empty
};

}  // namespace

std::unique_ptr<Stream> make_stream(const Subscribed& what, std::string client_subscription_id, std::size_t depth) {
  switch (what.kind) {
    case Kind::new_heads: return detail::make_head_stream(depth);
    case Kind::logs: return detail::make_log_stream(what.filter, std::move(client_subscription_id), depth);
    case Kind::pending_transactions: return std::make_unique<SeenStream>();
    case Kind::other: break;
  }
  return nullptr;
}

}  // namespace vixy::ws::gapless
