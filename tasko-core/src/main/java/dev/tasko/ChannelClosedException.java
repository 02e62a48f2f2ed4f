package dev.tasko;

/**
 * Thrown by a {@link Channel} that has been {@linkplain Channel#close() closed}: by
 * {@link Channel#take()} once every element sent before the close has been taken, and by
 * {@link Channel#put} on a closed channel. An {@link IllegalStateException}: the channel's state,
 * not its argument, is wrong.
 */
public final class ChannelClosedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  ChannelClosedException(String message) {
    super(message);
  }
}
