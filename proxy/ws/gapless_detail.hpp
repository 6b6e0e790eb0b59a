#pragma once
// Shared pieces of the gapless streams (gapless.cpp, gapless_heads.cpp, gapless_logs.cpp).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jsonrpc/raw.hpp"
#include "ws/gapless.hpp"

namespace vixy::ws::gapless::detail {

std::optional<Hash> parse_hash(std::string_view hex);  // "0x" + 64 hex digits
std::string hash_hex(const Hash& hash);

// Where params.result is in a notification's text (absolute offsets).
std::optional<jsonrpc::raw::Span> result_span(std::string_view notification);
// A string member's characters (quotes removed); nullopt when absent or not a plain string.
std::optional<std::string_view> string_member(std::string_view object, std::string_view key);
std::optional<std::uint64_t> quantity_member(std::string_view object, std::string_view key);
std::optional<Hash> hash_member(std::string_view object, std::string_view key);

std::optional<HeadFields> head_fields(std::string_view object);  // a header's text
std::optional<LogFields> log_fields(std::string_view object);    // a log's text

// {"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":<id>,"result":<result>}}
std::string notification_text(std::string_view client_subscription_id, std::string_view result);

std::unique_ptr<Stream> make_head_stream(std::size_t depth);
std::unique_ptr<Stream> make_log_stream(nlohmann::json filter, std::string client_subscription_id,
                                        std::size_t depth);

}  // namespace vixy::ws::gapless::detail
