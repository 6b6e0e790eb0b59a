#include "net/redact.hpp"

#include <algorithm>
#include <boost/url.hpp>

namespace vixy::net {

namespace {

constexpr std::string_view kMask = "***";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_key_char(char c) { return is_digit(c) || is_letter(c) || c == '-' || c == '_'; }

}  // namespace

bool looks_like_api_key(std::string_view segment) {
  if (segment.size() < 16) return false;
  if (!std::all_of(segment.begin(), segment.end(), is_key_char)) return false;
  const bool has_digit = std::any_of(segment.begin(), segment.end(), is_digit);
  const bool has_letter = std::any_of(segment.begin(), segment.end(), is_letter);
  if (has_digit && has_letter) return true;
  // Long random tokens can still come out all letters or all digits (or all hex); no route
  // segment is that long without a separator.
  const bool alphanumeric =
      std::all_of(segment.begin(), segment.end(), [](char c) { return is_digit(c) || is_letter(c); });
  return alphanumeric && segment.size() >= 32;
}

std::string redact_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  // Upstream URLs always have an authority; anything else ("localhost:8545" parses as scheme
  // "localhost") is not something we can show safely in parts.
  if (!parsed || !parsed->has_authority() || parsed->encoded_host().empty()) return std::string(kMask);
  const boost::urls::url_view& view = *parsed;

  std::string out;
  out.reserve(url.size());
  out += view.scheme();
  out += "://";
  if (view.has_userinfo() && !view.encoded_userinfo().empty()) {
    out += kMask;
    out += '@';
  }
  out += view.encoded_host_and_port();

  if (view.is_path_absolute()) out += '/';
  bool first = true;
  for (boost::urls::pct_string_view segment : view.encoded_segments()) {
    if (!first) out += '/';
    first = false;
    // Judge the decoded form so percent-escaping cannot hide a key from the check.
    if (looks_like_api_key(segment.decode())) {
      out += kMask;
    } else {
      out += segment;
    }
  }

  if (view.has_query() && !view.encoded_query().empty()) {
    out += '?';
    out += kMask;
  }
  // The fragment never reaches a server, and a client-side token may live there: dropped.
  return out;
}

}  // namespace vixy::net
