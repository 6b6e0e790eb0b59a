// The /cl path rules (http/cl_target.hpp) on any client target: a suffix is refused exactly when
// no target is made for it, and a target that is made stays under the node URL's path, holds no
// dot segment, empty segment, backslash or control byte however it is decoded, and keeps the
// URL's own query parameters first, unchanged and not repeated by the client.
//
// Input: byte 0 picks the node URL (a key in the path, in the query, both, or none); the rest is
// what the client wrote after "/cl".
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "http/cl_target.hpp"
#include "net/upstream_url.hpp"

namespace {

constexpr std::string_view kUrls[] = {
    "http://127.0.0.1:5052",
    "http://127.0.0.1:5052/KEY",
    "http://127.0.0.1:5052/v1/KEY?apikey=SECRET",
    "https://127.0.0.1/?apikey=SECRET&x=1",
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One round of percent-decoding, as a server reads a segment or a parameter name; an escape that
// is not one stays as it is.
std::string decoded(std::string_view text, bool plus_is_space = false) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(plus_is_space && text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The client's part of the path must not walk anywhere: each segment, decoded, is not "." or ".."
// (also before a ";parameter"), is not empty unless it is the last, and holds nothing a server
// reads as a separator: no '/', backslash or control byte.
void check_client_path(std::string_view path) {
  if (path.empty()) return;
  VIXY_FUZZ_CHECK(path.front() == '/', "the client's part of the path does not start with '/'");
  path.remove_prefix(1);
  while (true) {
    const auto end = path.find('/');
    const std::string segment = decoded(path.substr(0, end));
    for (char c : segment) {
      VIXY_FUZZ_CHECK(c != '\\' && c != '/' && static_cast<unsigned char>(c) >= 0x20 && c != 0x7F,
                      "a forwarded path segment holds a slash, a backslash or a control byte");
    }
    const std::string_view name = std::string_view(segment).substr(0, segment.find(';'));
    VIXY_FUZZ_CHECK(name != "." && name != "..", "a forwarded path holds a dot segment");
    VIXY_FUZZ_CHECK(!segment.empty() || end == std::string_view::npos, "a forwarded path holds an empty segment");
    if (end == std::string_view::npos) return;
    path.remove_prefix(end + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto url = vixy::net::parse_upstream_url(kUrls[data[0] % std::size(kUrls)]);
  VIXY_FUZZ_CHECK(url.ok(), "a fixed node URL does not parse");
  const std::string_view suffix(reinterpret_cast<const char*>(data + 1), size - 1);

  const auto problem = vixy::http::cl_path_problem(suffix);
  const auto target = vixy::http::cl_upstream_target(*url, suffix);
  VIXY_FUZZ_CHECK(target.ok() != problem.has_value(), "the path check and the target disagree");
  if (!target) {
    VIXY_FUZZ_CHECK(!target.problem().empty(), "a refusal without a reason");
    return 0;
  }

  const std::string_view text = *target;
  const auto question = text.find('?');
  const std::string_view path = text.substr(0, question);
  const std::string_view query = question == std::string_view::npos ? "" : text.substr(question + 1);

  // Under the URL's path: its prefix, then a '/' or nothing.
  const std::string_view base = url->path == "/" ? "" : std::string_view(url->path);
  VIXY_FUZZ_CHECK(path.starts_with(base), "the target leaves the node URL's path");
  const auto rest = path.substr(base.size());
  VIXY_FUZZ_CHECK(rest.empty() || rest.front() == '/', "the target extends the URL's last segment");
  check_client_path(rest);

  VIXY_FUZZ_CHECK(text.find('#') == std::string_view::npos, "a forwarded target holds a '#'");

  // The URL's parameters come first, unchanged, and the client sets none of them again (names
  // compared decoded and in any case, as some servers do).
  if (!url->query.empty()) {
    VIXY_FUZZ_CHECK(query.starts_with(url->query) &&
                        (query.size() == url->query.size() || query[url->query.size()] == '&'),
                    "the URL's query is not first and whole");
    std::vector<std::string> configured;
    for (std::string_view own = url->query; !own.empty();) {
      const auto end = own.find('&');
      const auto parameter = own.substr(0, end);
      configured.push_back(lower(decoded(parameter.substr(0, parameter.find('=')), true)));
      own = end == std::string_view::npos ? std::string_view() : own.substr(end + 1);
    }
    std::string_view client = query.substr(url->query.size());
    while (!client.empty()) {
      client.remove_prefix(1);  // the '&'
      const auto end = client.find('&');
      const auto parameter = client.substr(0, end);
      const auto name = lower(decoded(parameter.substr(0, parameter.find('=')), true));
      VIXY_FUZZ_CHECK(std::find(configured.begin(), configured.end(), name) == configured.end(),
                      "the client sets the URL's parameter again");
      if (end == std::string_view::npos) break;
      client.remove_prefix(end);
    }
  }
  return 0;
}
