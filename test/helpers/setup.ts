import 'reflect-metadata';
import chai from 'chai';

// Full diffs when a deep comparison fails.
chai.config.truncateThreshold = 0;

// A promise nobody handled is a bug in the code under test: fail loudly instead of passing quietly.
process.on('unhandledRejection', (reason) => {
  throw reason;
});
