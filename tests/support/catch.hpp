// SPDX-License-Identifier: MIT
// The one place that knows the Catch2 major version: every test includes this header.
#ifndef CURVOP_TESTS_SUPPORT_CATCH_HPP
#define CURVOP_TESTS_SUPPORT_CATCH_HPP

#include <string>

#ifdef CURVOP_CATCH_V3
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif

namespace curvop::test {

/// Matcher for a string that contains `text` (v2 calls it `Contains`; in v3 `Contains` matches
/// range elements and the string matcher is `ContainsSubstring`).
inline auto contains_text(const std::string& text) {
#ifdef CURVOP_CATCH_V3
  return Catch::Matchers::ContainsSubstring(text);
#else
  return Catch::Matchers::Contains(text);
#endif
}

}  // namespace curvop::test

#endif  // CURVOP_TESTS_SUPPORT_CATCH_HPP
