#include "fakenodes/filters.hpp"

#include <algorithm>

#include "jsonrpc/jsonrpc.hpp"
#include "text/ascii.hpp"

namespace vixy::fakenodes {
namespace {

bool contains(const std::vector<std::string>& alternatives, const std::string& value) {
  return std::find(alternatives.begin(), alternatives.end(), text::lowercase(value)) != alternatives.end();
}

}  // namespace

Result<LogFilter> parse_log_filter(const json& filter) {
  LogFilter parsed;
  if (filter.is_null()) return parsed;
  if (!filter.is_object()) return Problem{"filter must be an object"};

  if (auto address = filter.find("address"); address != filter.end() && !address->is_null()) {
    if (address->is_string()) {
      parsed.addresses.push_back(text::lowercase(address->get<std::string>()));
    } else if (address->is_array()) {
      for (const auto& a : *address) {
        if (!a.is_string()) return Problem{"address must be a string or an array of strings"};
        parsed.addresses.push_back(text::lowercase(a.get<std::string>()));
      }
    } else {
      return Problem{"address must be a string or an array of strings"};
    }
  }

  if (auto topics = filter.find("topics"); topics != filter.end() && !topics->is_null()) {
    if (!topics->is_array()) return Problem{"topics must be an array"};
    for (const auto& position : *topics) {
      std::vector<std::string> alternatives;
      if (position.is_string()) {
        alternatives.push_back(text::lowercase(position.get<std::string>()));
      } else if (position.is_array()) {
        for (const auto& t : position) {
          if (!t.is_string()) return Problem{"topic alternatives must be strings"};
          alternatives.push_back(text::lowercase(t.get<std::string>()));
        }
      } else if (!position.is_null()) {
        return Problem{"each topic must be null, a string or an array of strings"};
      }
      parsed.topics.push_back(std::move(alternatives));
    }
  }
  return parsed;
}

bool matches(const LogFilter& filter, const json& log) {
  if (!filter.addresses.empty() && !contains(filter.addresses, log.value("address", ""))) return false;
  const json& topics = log.at("topics");
  if (filter.topics.size() > topics.size()) return false;
  for (std::size_t i = 0; i < filter.topics.size(); ++i) {
    if (filter.topics[i].empty()) continue;  // null or [] at a position: any topic
    if (!contains(filter.topics[i], topics[i].get<std::string>())) return false;
  }
  return true;
}

bool may_match(const LogFilter& filter, std::string_view address, std::string_view first_topic) {
  if (!filter.addresses.empty() && !contains(filter.addresses, std::string(address))) return false;
  if (!filter.topics.empty() && !filter.topics[0].empty() &&
      !contains(filter.topics[0], std::string(first_topic))) {
    return false;
  }
  return true;
}

std::optional<std::uint64_t> resolve_block_tag(const json& tag, std::uint64_t head) {
  if (!tag.is_string()) return std::nullopt;
  const auto& text = tag.get_ref<const std::string&>();
  if (text == "earliest") return 0;
  if (text == "latest" || text == "pending" || text == "safe" || text == "finalized") return head;
  return jsonrpc::from_quantity(text);
}

RangeResult resolve_log_range(const json& filter, std::uint64_t head, const Chain& chain,
                              std::uint64_t max_blocks) {
  RangeResult result;
  auto fail = [&](int code, std::string why) {
    result.error_code = code;
    result.error = std::move(why);
    return result;
  };
  if (!filter.is_object()) return fail(jsonrpc::kInvalidParams, "filter must be an object");

  auto block_hash = filter.find("blockHash");
  if (block_hash != filter.end() && !block_hash->is_null()) {
    if (filter.contains("fromBlock") || filter.contains("toBlock")) {
      return fail(jsonrpc::kInvalidParams, "cannot specify both BlockHash and FromBlock/ToBlock");
    }
    if (!block_hash->is_string()) return fail(jsonrpc::kInvalidParams, "blockHash must be a string");
    auto block = chain.find_block(block_hash->get<std::string>());
    if (!block || block->height > head) return fail(jsonrpc::kServerError, "unknown block");
    result.range = BlockRange{block->height, block->height};
    result.version = block->version;
    return result;
  }

  auto bound = [&](const char* key) -> std::optional<std::uint64_t> {
    auto it = filter.find(key);
    if (it == filter.end() || it->is_null()) return head;
    return resolve_block_tag(*it, head);
  };
  auto from = bound("fromBlock");
  auto to = bound("toBlock");
  if (!from || !to) return fail(jsonrpc::kInvalidParams, "invalid block number or tag");
  if (*to > head) to = head;
  if (*from > *to) return result;  // nothing in range yet: an empty answer, like geth for future blocks
  if (*to - *from + 1 > max_blocks) {
    return fail(-32005, "query exceeds max block range " + std::to_string(max_blocks));
  }
  result.range = BlockRange{*from, *to};
  result.version = chain.tip();
  return result;
}

}  // namespace vixy::fakenodes
