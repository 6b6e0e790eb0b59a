// flat_header (http/flat_header.hpp) must write exactly what Beast's own header writer writes, for
// any status, reason, method, target, version and fields: vixy's answers go through it.
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <boost/beast/http/write.hpp>

#include "http/flat_header.hpp"

namespace vixy::http {
namespace {

namespace bhttp = boost::beast::http;

template <class Header>
std::string beast_text(const Header& header) {
  std::ostringstream out;
  out << header;
  return out.str();
}

rc::Gen<std::string> gen_token(const std::string& alphabet) {
  return rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::elementOf(alphabet)));
}

// Known fields (Beast stores them by enum) and unknown ones, with values of visible characters.
void add_fields(bhttp::fields& fields) {
  const auto count = *rc::gen::inRange(0, 8);
  for (int i = 0; i < count; ++i) {
    const auto name = *rc::gen::oneOf(rc::gen::element<std::string>("Content-Type", "content-length", "Server",
                                                                    "Date", "Cache-Control", "X-Node"),
                                      gen_token("abcXYZ-_09"));
    const auto value = *rc::gen::container<std::string>(rc::gen::elementOf(std::string("a Z0;=,/\"\t:")));
    fields.insert(name, value);
  }
}

RC_GTEST_PROP(FlatHeader, AResponseHeaderIsWhatBeastWrites, ()) {
  bhttp::response_header<> header;
  header.version(*rc::gen::element(10u, 11u));
  header.result(*rc::gen::inRange(100u, 1000u));
  if (*rc::gen::arbitrary<bool>()) header.reason(*gen_token("Ok Nt"));
  add_fields(header);
  RC_ASSERT(flat_header(header) == beast_text(header));
}

RC_GTEST_PROP(FlatHeader, ARequestHeaderIsWhatBeastWrites, ()) {
  bhttp::request_header<> header;
  header.version(*rc::gen::element(10u, 11u));
  header.method_string(*rc::gen::element<std::string>("POST", "GET", "HEAD", "OPTIONS", "PURGE"));
  header.target(*gen_token("/abc?=&%09"));
  add_fields(header);
  RC_ASSERT(flat_header(header) == beast_text(header));
}

}  // namespace
}  // namespace vixy::http
