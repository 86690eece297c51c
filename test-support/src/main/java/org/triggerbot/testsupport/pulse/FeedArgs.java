package org.triggerbot.testsupport.pulse;

/** The command line of the feed generators: {@code [--seed N] [--pushes N] [--jobs N]}. */
record FeedArgs(long seed, int pushes, int jobs) {

  static FeedArgs parse(String[] args, FeedArgs defaults) {
    long seed = defaults.seed();
    int pushes = defaults.pushes();
    int jobs = defaults.jobs();
    for (int i = 0; i < args.length; i += 2) {
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value (--seed, --pushes, --jobs)");
      }
      switch (args[i]) {
        case "--seed" -> seed = Long.parseLong(args[i + 1]);
        case "--pushes" -> pushes = Integer.parseInt(args[i + 1]);
        case "--jobs" -> jobs = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (--seed, --pushes, --jobs)");
      }
    }
    return new FeedArgs(seed, pushes, jobs);
  }
}
