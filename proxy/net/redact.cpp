#include "net/redact.hpp"

#include <boost/url.hpp>

namespace vixy::net {

namespace {
constexpr std::string_view kMask = "***";
}  // namespace

std::string redact_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  // Upstream URLs always have an authority; anything else ("localhost:8545" parses as scheme
  // "localhost") is not something we can show safely in parts.
  if (!parsed || !parsed->has_authority() || parsed->encoded_host().empty()) return std::string(kMask);
  const boost::urls::url_view& view = *parsed;

  std::string out;
  out += view.scheme();
  out += "://";
  if (view.has_userinfo()) {
    out += kMask;
    out += '@';
  }
  out += view.encoded_host_and_port();
  std::string_view path = view.encoded_path();
  if ((!path.empty() && path != "/") || view.has_query()) {
    out += '/';
    out += kMask;
  } else {
    out += path;
  }
  // The fragment never reaches a server, and a client-side token may live there: dropped.
  return out;
}

}  // namespace vixy::net
