"""Names of Keras 3 layers and optimizers, so a spec is checked without importing Keras.

Generated from keras 3.15.1; tests/test_keras_names.py fails when Keras' own lists differ.
Lambda, InputLayer and the framework wrappers are left out: a YAML spec cannot express them.
"""

LAYERS = frozenset((
    'Activation', 'ActivityRegularization', 'AdaptiveAveragePooling1D',
    'AdaptiveAveragePooling2D', 'AdaptiveAveragePooling3D', 'AdaptiveMaxPooling1D',
    'AdaptiveMaxPooling2D', 'AdaptiveMaxPooling3D', 'Add', 'AdditiveAttention', 'AlphaDropout',
    'Attention', 'AugMix', 'AutoContrast', 'Average', 'AveragePooling1D', 'AveragePooling2D',
    'AveragePooling3D', 'AvgPool1D', 'AvgPool2D', 'AvgPool3D', 'BatchNormalization',
    'Bidirectional', 'CategoryEncoding', 'CenterCrop', 'Concatenate',
    'ContrastLimitedAdaptiveHistogramEqualization', 'Conv1D', 'Conv1DTranspose', 'Conv2D',
    'Conv2DTranspose', 'Conv3D', 'Conv3DTranspose', 'ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D',
    'Convolution1D', 'Convolution1DTranspose', 'Convolution2D', 'Convolution2DTranspose',
    'Convolution3D', 'Convolution3DTranspose', 'Cropping1D', 'Cropping2D', 'Cropping3D',
    'CutMix', 'Dense', 'DepthwiseConv1D', 'DepthwiseConv2D', 'Discretization', 'Dot', 'Dropout',
    'ELU', 'EinsumDense', 'Embedding', 'Equalization', 'Flatten', 'GRU', 'GRUCell',
    'GaussianDropout', 'GaussianNoise', 'GlobalAveragePooling1D', 'GlobalAveragePooling2D',
    'GlobalAveragePooling3D', 'GlobalAvgPool1D', 'GlobalAvgPool2D', 'GlobalAvgPool3D',
    'GlobalMaxPool1D', 'GlobalMaxPool2D', 'GlobalMaxPool3D', 'GlobalMaxPooling1D',
    'GlobalMaxPooling2D', 'GlobalMaxPooling3D', 'GroupNormalization', 'GroupQueryAttention',
    'HashedCrossing', 'Hashing', 'Identity', 'IntegerLookup', 'LSTM', 'LSTMCell',
    'LayerNormalization', 'LeakyReLU', 'Masking', 'MaxNumBoundingBoxes', 'MaxPool1D',
    'MaxPool2D', 'MaxPool3D', 'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'Maximum',
    'MelSpectrogram', 'Minimum', 'MixUp', 'MultiHeadAttention', 'Multiply', 'Normalization',
    'PReLU', 'Permute', 'Pipeline', 'RMSNormalization', 'RNN', 'RandAugment',
    'RandomBrightness', 'RandomColorDegeneration', 'RandomColorJitter', 'RandomContrast',
    'RandomCrop', 'RandomElasticTransform', 'RandomErasing', 'RandomFlip', 'RandomGaussianBlur',
    'RandomGrayscale', 'RandomHue', 'RandomInvert', 'RandomPerspective', 'RandomPosterization',
    'RandomRotation', 'RandomSaturation', 'RandomSharpness', 'RandomShear', 'RandomTranslation',
    'RandomZoom', 'ReLU', 'RepeatVector', 'Rescaling', 'Reshape', 'Resizing',
    'ReversibleEmbedding', 'STFTSpectrogram', 'SeparableConv1D', 'SeparableConv2D',
    'SeparableConvolution1D', 'SeparableConvolution2D', 'SimpleRNN', 'SimpleRNNCell', 'Softmax',
    'Solarization', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D',
    'SpectralNormalization', 'StackedRNNCells', 'StringLookup', 'Subtract', 'TextVectorization',
    'TimeDistributed', 'UnitNormalization', 'UpSampling1D', 'UpSampling2D', 'UpSampling3D',
    'ZeroPadding1D', 'ZeroPadding2D', 'ZeroPadding3D',
))

OPTIMIZERS = frozenset((
    'adadelta', 'adafactor', 'adagrad', 'adam', 'adamax', 'adamw', 'ftrl', 'lamb', 'lion',
    'muon', 'nadam', 'rmsprop', 'schedulefreeadamw', 'sgd',
))
