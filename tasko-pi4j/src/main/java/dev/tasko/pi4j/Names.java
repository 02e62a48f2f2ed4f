package dev.tasko.pi4j;

/**
 * The check core gives every name a program chooses, for the names of shared buses. Core's own
 * ({@code dev.tasko.Names}) is not public; a bus shared already never reaches it, since its name
 * is only compared with the one given, so the same check is made here first, with the same
 * messages (a test compares them with core's).
 */
final class Names {
  private Names() {}

  /**
   * {@code name}, checked as core checks a name.
   *
   * @throws NullPointerException if {@code name} is null
   * @throws IllegalArgumentException if it holds a control character (a line break, a tab, ...),
   *     or if it is empty or blank
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
    if (name.isBlank()) {
      throw new IllegalArgumentException("name is " + (name.isEmpty() ? "empty" : "blank")
          + ": \"" + name + "\"");
    }
    return name;
  }

  /** {@code s} with each control character written as a Java escape. */
  private static String printable(String s) {
    StringBuilder b = new StringBuilder(s.length() + 8);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (Character.isISOControl(c)) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.toString();
  }
}
