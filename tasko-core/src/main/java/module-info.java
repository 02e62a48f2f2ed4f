/**
 * tasko: a cooperative task loop — {@code while (true)}, redefined.
 *
 * <p>Start with {@link dev.tasko.Loop}. Only {@code dev.tasko} is exported; everything in
 * {@code dev.tasko.internal} may change without notice.
 */
module dev.tasko {
  exports dev.tasko;
}
