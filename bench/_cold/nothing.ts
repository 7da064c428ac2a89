// Cold-start baseline: a module with nothing in it.
export {};
