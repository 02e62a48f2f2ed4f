/**
 * tasko: a cooperative task loop — {@code while (true)}, redefined.
 *
 * <p>Start with {@link dev.tasko.Loop}. The module exports one package, {@code dev.tasko}; its
 * implementation classes are package-private there.
 */
module dev.tasko {
  requires static jdk.jfr;

  exports dev.tasko;
}
