package dev.tasko;

/**
 * The names a program gives tasks, loops, resources and the coordination tools. They are printed
 * as they are, one per line or inside quotes, in dumps, deadlock reports, stall warnings and
 * errors: a name holding a line break (a trailing {@code '\r'} read from a file written on
 * Windows, say) would split a line or fake another, so such a name is refused where it is given.
 * So is an empty or blank name, which would name nothing there ({@code task ''}).
 */
final class Names {
  private Names() {}

  /**
   * {@code name}, checked.
   *
   * @throws NullPointerException if {@code name} is null
   * @throws IllegalArgumentException if it holds a control character (a line break, a tab, ...),
   *     or if it is empty or blank (only white space, as {@link String#isBlank()} says)
   */
  static String require(String name) {
    if (name == null) {
      throw new NullPointerException("name == null");
    }
    for (int i = 0; i < name.length(); i++) {
      if (Character.isISOControl(name.charAt(i))) {
        throw new IllegalArgumentException("name has a control character at index " + i + ": \""
            + printable(name) + "\"");
      }
    }
    // After the control characters: a tab alone is refused for that, as it always was.
    if (name.isBlank()) {
      throw new IllegalArgumentException("name is " + (name.isEmpty() ? "empty" : "blank")
          + ": \"" + name + "\"");
    }
    return name;
  }

  /**
   * {@code s} with each control character written as an escape, as in a Java string literal
   * ({@code \n}, {@code \t}, or a backslash, a {@code u} and four hex digits): for a name the
   * program did not choose, such as a resource's {@code toString()}.
   */
  static String printable(String s) {
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!Character.isISOControl(c)) {
        if (b != null) {
          b.append(c);
        }
        continue;
      }
      if (b == null) {
        b = new StringBuilder(s.length() + 8).append(s, 0, i);
      }
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> b.append(String.format("\\u%04x", (int) c));
      }
    }
    return b == null ? s : b.toString();
  }
}
