#pragma once
// An upstream node's URL, split into what a connection needs. Credentials in the userinfo become
// an Authorization header, the way paid providers expect them.

#include <optional>
#include <string>
#include <string_view>

#include "text/result.hpp"

namespace vixy::net {

struct UpstreamUrl {
  bool tls = false;                 // https:// or wss://
  std::string host;                 // as written (name or IP literal, IPv6 without brackets)
  std::string port;                 // explicit or the scheme's default
  std::string path;                 // "/" when empty; never ends with '/' unless it is "/"
  std::string query;                // without '?', may be empty
  std::optional<std::string> basic_auth;  // "Basic <base64(user:pass)>" when the URL had userinfo
  std::string redacted;             // safe to log

  // The Host header value: host, plus the port when it is not the scheme's default.
  std::string host_header() const;
  // The request target for `suffix` appended to the URL's own path (suffix "" means the path
  // itself), with the URL's query. (A client's /cl path and query: http/cl_target.hpp.)
  std::string target(std::string_view suffix = "") const;
};

// The URL's parts, or the problem that makes it unusable: unknown scheme, no host, bad port.
Result<UpstreamUrl> parse_upstream_url(std::string_view url);

}  // namespace vixy::net
