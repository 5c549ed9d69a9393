import { randomInt } from 'node:crypto'

/** Kargo-style Freight aliases: a random `adjective-animal` such as `oldfashioned-penguin`. */

function words(list: string): readonly string[] {
  return list.trim().split(/\s+/)
}

export const ALIAS_ADJECTIVES: readonly string[] = words(`
  agile amber ancient angry arctic austere autumnal bashful bold brave breezy bright brisk bubbly
  calm candid careful cheerful chilly clever cosmic cozy crimson curious dapper daring dazzling eager
  earnest elegant fancy fearless fierce fluffy frosty fuzzy gentle giddy gleaming golden graceful
  grumpy handsome happy hasty hearty honest humble icy jolly jovial keen kind lively lofty loyal
  lucky mellow merry mighty misty modest nimble noble oldfashioned patient peppy plucky polite proud
  quick quiet quirky radiant rapid rustic serene shiny silent silly sleepy smooth snappy snowy
  sparkly speedy spiffy steady stormy sunny swift tender thrifty tidy tranquil trusty upbeat vivid
  witty zesty
`)

export const ALIAS_ANIMALS: readonly string[] = words(`
  aardvark albatross alligator alpaca anteater antelope armadillo badger beaver bison bobcat buffalo
  butterfly camel capybara caribou cheetah chinchilla chipmunk cobra condor cougar coyote crane
  cricket crow dingo dolphin donkey dragonfly eagle eel elephant elk falcon ferret finch flamingo fox
  frog gazelle gecko gerbil giraffe gopher gorilla hamster hedgehog heron hippo hornet hyena ibex
  iguana impala jackal jaguar jellyfish kangaroo kiwi koala lemur leopard lion llama lobster lynx
  macaw manatee meerkat mongoose moose narwhal newt ocelot octopus opossum orca ostrich otter owl
  panda panther parrot pelican penguin platypus puffin quail rabbit raccoon raven reindeer salamander
  seal sloth squirrel tapir walrus zebra
`)

function pick(words: readonly string[], random: (() => number) | undefined): string {
  const i = random ? Math.min(words.length - 1, Math.floor(random() * words.length)) : randomInt(words.length)
  return words[Math.max(0, i)] ?? words[0] ?? ''
}

/**
 * A fresh `adjective-animal` alias (lowercase `[a-z-]`). `random` (values in [0, 1), like `Math.random`) makes it
 * deterministic for tests; by default a CSPRNG picks. Uniqueness within a project is the caller's job.
 */
export function generateAlias(random?: () => number): string {
  return `${pick(ALIAS_ADJECTIVES, random)}-${pick(ALIAS_ANIMALS, random)}`
}
